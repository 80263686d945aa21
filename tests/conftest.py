"""Shared pytest configuration."""
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(executable: str) -> str:
    """Path of an external tool; skip when it is missing, except in CI where a
    missing tool is a failure (CI must run every test)."""
    path = shutil.which(executable)
    if path is None:
        if IN_CI:
            pytest.fail(f"{executable} is required in CI but was not found on PATH")
        pytest.skip(f"{executable} not installed")
    return path
