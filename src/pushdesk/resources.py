"""Find the files pushdesk ships beside its code: the page and the icons.

An installed wheel carries them inside the package; a source checkout keeps
them at the top of the repository; a PyInstaller bundle unpacks them next to
the executable. All three are looked for, in that order.
"""

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent

# The sizes desktops ask an app icon for (title bars, docks, trays, switchers);
# packaging/make_icons.py draws each one.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


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


def icon_files(name: str = "pushdesk") -> dict[int, Path]:
    """The PNG of icon ``name`` ("pushdesk", "pushdesk-paused") at each size.

    Raises FileNotFoundError naming the first missing file.
    """
    folder = resources_dir() / "icons"
    files = {size: folder / f"{name}-{size}.png" for size in ICON_SIZES}

    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(
                f"pushdesk's icon {path} is missing; the installation is incomplete."
            )
    return files
