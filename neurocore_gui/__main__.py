"""``neurocore`` console command: serve the app (``neurocore [--port N] [--show]``)."""
import subprocess
import sys
from pathlib import Path


def main() -> int:
    app = Path(__file__).with_name("app.py")
    cmd = [sys.executable, "-m", "panel", "serve", str(app), *sys.argv[1:]]
    return subprocess.call(cmd)


if __name__ == "__main__":
    raise SystemExit(main())
