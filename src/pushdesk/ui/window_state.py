"""Where the operator left the window: its size and place, layout and columns.

Kept in an ini file in the data folder, beside the database, so each data
folder (and each test) has its own and nothing lands in the user's global
Qt settings.
"""

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView, QTabWidget

from pushdesk.log import UI

FILE_NAME = "window.ini"


class WindowState:
    """Saves and restores a main window and named tables, splitters and tabs.

    Names are the caller's: a table saved as "reminders" is restored into
    whatever view is handed in under that name.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> "WindowState":
        return cls(data_dir / FILE_NAME)

    def save(
        self,
        window: QMainWindow,
        tables: Mapping[str, QTableView] | None = None,
        *,
        splitters: Mapping[str, QSplitter] | None = None,
        tabs: Mapping[str, QTabWidget] | None = None,
    ) -> None:
        settings = self._settings
        settings.setValue("window/geometry", window.saveGeometry())
        settings.setValue("window/state", window.saveState())

        for name, view in (tables or {}).items():
            header = view.horizontalHeader()
            settings.setValue(f"tables/{name}/header", header.saveState())
            settings.setValue(f"tables/{name}/columns", header.count())

        for name, splitter in (splitters or {}).items():
            settings.setValue(f"splitters/{name}", splitter.saveState())

        for name, tab_widget in (tabs or {}).items():
            settings.setValue(f"tabs/{name}", tab_widget.currentIndex())

        self._write()

    def restore(
        self,
        window: QMainWindow,
        tables: Mapping[str, QTableView] | None = None,
        *,
        splitters: Mapping[str, QSplitter] | None = None,
        tabs: Mapping[str, QTabWidget] | None = None,
    ) -> bool:
        """Put back what was saved; False when nothing was (the first start)."""
        geometry = self._bytes("window/geometry")
        if geometry is None:
            return False
        window.restoreGeometry(geometry)
        state = self._bytes("window/state")
        if state is not None:
            window.restoreState(state)

        for name, view in (tables or {}).items():
            self._restore_header(name, view)

        for name, splitter in (splitters or {}).items():
            saved = self._bytes(f"splitters/{name}")
            if saved is not None:
                splitter.restoreState(saved)

        for name, tab_widget in (tabs or {}).items():
            index = self._int(f"tabs/{name}")
            if index is not None and 0 <= index < tab_widget.count():
                tab_widget.setCurrentIndex(index)
        return True

    def flag(self, name: str) -> bool:
        """A remembered yes/no, such as "the tray message was shown"."""
        return bool(self._settings.value(f"flags/{name}", False, type=bool))

    def set_flag(self, name: str, value: bool) -> None:
        self._settings.setValue(f"flags/{name}", value)
        self._write()

    def _restore_header(self, name: str, view: QTableView) -> None:
        header = view.horizontalHeader()
        saved = self._bytes(f"tables/{name}/header")
        # A newer pushdesk may have added a column: old widths would land on
        # the wrong ones, so the defaults win.
        if saved is None or self._int(f"tables/{name}/columns") != header.count():
            return
        header.restoreState(saved)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _int(self, key: str) -> int | None:
        value = self._settings.value(key)
        try:
            return int(str(value)) if value is not None else None
        except ValueError:
            return None

    def _write(self) -> None:
        self._settings.sync()
        if self._settings.status() != QSettings.Status.NoError:
            # Losing the layout is a nuisance, not a reason to stop.
            UI.warning("unable to save the window's layout to %s", self.path)
