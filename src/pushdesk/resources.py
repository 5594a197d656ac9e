"""Find the files pushdesk ships beside its code: the page and the icons.

An installed wheel carries them inside the package; a source checkout keeps
them at the top of the repository; a PyInstaller bundle unpacks them next to
the executable. All three are looked for, in that order.
"""

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    candidates = [
        _PACKAGE_DIR / name,
        _PACKAGE_DIR.parent.parent / name,
    ]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"pushdesk's {name}/ folder is missing (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); the installation is incomplete."
    )


def web_dir() -> Path:
    return _find("web")


def resources_dir() -> Path:
    return _find("resources")
