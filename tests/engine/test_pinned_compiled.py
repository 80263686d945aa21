"""Pinned behaviour of the compiled (numba) backend's driver for mutation
testing (tools/mutation.py, module ``compiled``); no kernel is compiled here."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("numba")

from engine.backends import compiled  # noqa: E402


def test_cache_dir_order_env_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROCORE_CACHE_DIR", str(tmp_path / "nc"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compiled.cache_dir() == str(tmp_path / "nc" / "compiled") and (tmp_path / "nc" / "compiled").is_dir()
    monkeypatch.delenv("NEUROCORE_CACHE_DIR")
    assert compiled.cache_dir() == str(tmp_path / "xdg" / "neurocore" / "compiled")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compiled.cache_dir() == str(tmp_path / "home" / ".cache" / "neurocore" / "compiled")


def test_an_unwritable_cache_falls_back_to_a_temporary_folder(tmp_path, monkeypatch):
    import tempfile

    # a file where the folder should be: makedirs fails whoever runs the test
    (tmp_path / "blocked").write_text("")
    monkeypatch.setenv("NEUROCORE_CACHE_DIR", str(tmp_path / "blocked"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = compiled.cache_dir()
    assert path == str(tmp_path / "tmp" / f"neurocore-compiled-{os.getuid()}") and os.path.isdir(path)
