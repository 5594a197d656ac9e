"""pushdesk's own icons as Qt icons, every size in one QIcon."""

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from pushdesk.resources import icon_files


def app_icon(*, paused: bool = False) -> QIcon:
    """The bell at every size, so each desktop picks a crisp one, not a scaled one.

    ``paused`` gives the grey variant the tray shows while sending is held.
    """
    icon = QIcon()
    name = "pushdesk-paused" if paused else "pushdesk"
    for size, path in icon_files(name).items():
        icon.addFile(str(path), QSize(size, size))
    return icon
