"""The app icon ships at every size and is found wherever pushdesk runs from."""

import shutil
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from pushdesk import resources
from pushdesk.resources import ICON_SIZES, icon_files, resources_dir
from pushdesk.ui.icons import app_icon


def test_the_sizes_are_those_desktops_ask_for() -> None:
    assert ICON_SIZES == (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.mark.parametrize("name", ["pushdesk", "pushdesk-paused"])
def test_every_size_is_a_square_png_of_that_size(qtbot: QtBot, name: str) -> None:
    files = icon_files(name)

    assert sorted(files) == list(ICON_SIZES)
    for size, path in files.items():
        image = QImage(str(path))
        assert not image.isNull(), path
        assert (image.width(), image.height()) == (size, size)


@pytest.mark.parametrize("paused", [False, True])
def test_the_qt_icon_holds_every_size(qtbot: QtBot, paused: bool) -> None:
    icon = app_icon(paused=paused)

    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(ICON_SIZES)
    for size in ICON_SIZES:
        pixmap = icon.pixmap(QSize(size, size))
        assert not pixmap.isNull()
        assert pixmap.width() == size


def test_the_paused_icon_looks_different(qtbot: QtBot) -> None:
    running = QImage(str(icon_files()[32]))
    paused = QImage(str(icon_files("pushdesk-paused")[32]))

    assert running != paused


def copy_resources(to: Path) -> Path:
    shutil.copytree(resources_dir(), to / "resources")
    return to / "resources"


def test_an_installed_package_uses_the_copy_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed wheel: pushdesk/resources beside pushdesk/resources.py,
    # with no repository around it.
    package = tmp_path / "site-packages" / "pushdesk"
    package.mkdir(parents=True)
    inside = copy_resources(package)
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)

    assert icon_files()[48] == inside / "icons" / "pushdesk-48.png"


def test_a_frozen_bundle_uses_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = copy_resources(tmp_path / "bundle")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)

    assert icon_files()[16] == bundled / "icons" / "pushdesk-16.png"


def test_a_missing_size_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = copy_resources(tmp_path / "bundle")
    (bundled / "icons" / "pushdesk-24.png").unlink()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)

    with pytest.raises(FileNotFoundError, match=r"pushdesk-24\.png is missing"):
        icon_files()
