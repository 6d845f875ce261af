"""Checks for the system libraries GrantFlow needs, with the Debian/Ubuntu packages to install.

Run as `python -m grantflow.core.syscheck`; exits 1 with a clear message when something is missing."""

import ctypes.util
import shutil
import subprocess
import sys

CHECKS = (
    # (what, how to test, Debian/Ubuntu package)
    ("Pango (WeasyPrint renders PDF documents with it)", lambda: ctypes.util.find_library("pango-1.0"), "libpango-1.0-0 libpangoft2-1.0-0"),
    ("HarfBuzz (text shaping for PDF documents)", lambda: ctypes.util.find_library("harfbuzz"), "libharfbuzz0b"),
    ("a font with all Latvian letters (DejaVu)", lambda: _font("DejaVu Sans"), "fonts-dejavu-core"),
    ("Graphviz (draws the workflow diagrams)", lambda: shutil.which("dot"), "graphviz"),
)


def _font(family: str) -> bool:
    if not shutil.which("fc-list"):
        return False
    listed = subprocess.run(["fc-list", ":family=" + family], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def missing() -> list[tuple[str, str]]:
    return [(what, package) for what, test, package in CHECKS if not test()]


def main() -> int:
    lacking = missing()
    if not lacking:
        print("System libraries: all present.")
        return 0
    print("GrantFlow needs some system packages that this machine lacks:", file=sys.stderr)
    for what, package in lacking:
        print(f"  - {what}: package {package}", file=sys.stderr)
    packages = " ".join(package for _, package in lacking)
    print(f"\nInstall them with:\n  sudo apt-get install {packages} fontconfig\n", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
