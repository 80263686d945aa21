"""The wheel is the app: built from this tree, installed into a fresh virtual
environment with nothing of the checkout on its path, its ``neurocore``
command serves the app with every example network in the Examples menu.

The fresh venv gets the project's dependencies from the test environment's
site-packages through a ``.pth`` line (added after the wheel is installed, so
pip never sees the checkout's editable install): installing panel, torch & co.
again would take minutes and prove nothing about the wheel.  The project
itself comes only from the wheel, which the test checks by where it imports
from."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from tests.gui.conftest import ARTIFACTS, ROOT, BokehWS, examples_menu, start_command, stop_server

pytestmark = pytest.mark.slow

EXAMPLES = sorted(p.stem for p in (ROOT / "assets" / "networks").glob("*.json"))
SOURCES = ["pyproject.toml", "build_hooks.py", "MANIFEST.in", "README.md", "engine", "neurocore_gui", "assets"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel of the working tree, built from a copy (a build in the shared
    checkout would write build/ and *.egg-info there)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(src)], check=True, timeout=300)
    (whl,) = dist.glob("neurocore-*.whl")
    return whl


def test_wheel_carries_the_example_networks(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.rsplit("/", 1)[1][:-5] for n in names if n.startswith("neurocore_gui/assets/networks/")
                     and n.endswith(".json"))
    assert shipped == EXAMPLES and len(EXAMPLES) >= 5
    # the same bytes as in the tree, and the build helper is not shipped
    for name in EXAMPLES:
        data = zipfile.ZipFile(wheel).read(f"neurocore_gui/assets/networks/{name}.json")
        assert data == (ROOT / "assets" / "networks" / f"{name}.json").read_bytes()
    assert "build_hooks.py" not in names
    assert any(n == "neurocore_gui/app.py" for n in names) and any(n.startswith("engine/models/") for n in names)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh venv with only the wheel installed, plus the test environment's
    third-party packages on its path."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    with open(os.path.join(site, "zz_test_dependencies.pth"), "w") as f:
        f.write(deps + "\n")
    return venv


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return dict(env, PYTHONUNBUFFERED="1")


def test_installed_package_finds_its_examples_outside_the_checkout(installed, tmp_path):
    probe = ("import json, engine, neurocore_gui; from neurocore_gui.builder import EXAMPLES_DIR, example_names; "
             "print(json.dumps({'gui': neurocore_gui.__file__, 'engine': engine.__file__, "
             "'dir': str(EXAMPLES_DIR), 'names': example_names()}))")
    out = subprocess.run([str(installed / "bin" / "python"), "-c", probe], cwd=tmp_path, env=clean_env(),
                         check=True, capture_output=True, text=True, timeout=300).stdout
    info = json.loads(out.strip().splitlines()[-1])
    for key in ("gui", "engine", "dir"):
        assert info[key].startswith(str(installed)), f"{key} from {info[key]}, not the wheel"
    assert info["names"] == EXAMPLES


def test_installed_command_serves_the_examples_menu(installed, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, base, log = start_command([str(installed / "bin" / "neurocore"), "--port", "0"], cwd=tmp_path,
                                    env=clean_env(), timeout=180, name="wheel_serve")
    try:
        async def menu():
            ws = await BokehWS.connect(base.replace("http", "ws") + "/app/ws")
            try:
                return examples_menu(await asyncio.wait_for(ws.pull_document(), 120))
            finally:
                ws.close()

        assert asyncio.run(menu()) == EXAMPLES
    finally:
        stop_server(proc, log)
