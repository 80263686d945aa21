"""Build step of the wheel (named in pyproject.toml's ``[tool.setuptools.cmdclass]``).

The example networks live in the repository's root ``assets/networks`` (the
project layout keeps data out of the packages), but an installed app must find
them next to its code: the wheel carries them as
``neurocore_gui/assets/networks/*.json``.  ``neurocore_gui.builder`` looks
there first and falls back to the root folder in a source checkout or an
editable install, where nothing is copied.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "assets" / "networks"
TARGET = Path("neurocore_gui") / "assets" / "networks"  # inside the built package


class BuildPy(build_py):
    """``build_py`` that also copies the example networks into the package."""

    def _example_files(self) -> list[tuple[str, str]]:
        if self.editable_mode:  # the source tree is used as is
            return []
        return [(str(src), os.path.join(self.build_lib, TARGET, src.name))
                for src in sorted(SOURCE.glob("*.json"))]

    def run(self) -> None:
        super().run()
        files = self._example_files()
        if not files and not self.editable_mode:
            raise RuntimeError(f"no example networks in {SOURCE}: the wheel would have an empty Examples menu")
        for src, dst in files:
            self.mkpath(os.path.dirname(dst))
            self.copy_file(src, dst)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + [dst for _, dst in self._example_files()]
