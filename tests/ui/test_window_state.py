"""The window comes back as the operator left it: size, place, tab, columns."""

from pathlib import Path

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from pushdesk.ui.window_state import FILE_NAME, WindowState


class Window(QMainWindow):
    """A window shaped like pushdesk's: tabs, a table, a splitter."""

    def __init__(self, columns: int = 3) -> None:
        super().__init__()
        self.table = QTableView()
        self.table.setModel(QStandardItemModel(5, columns, self.table))
        self.splitter = QSplitter()
        self.splitter.addWidget(QWidget())
        self.splitter.addWidget(QWidget())
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Reminders")
        self.tabs.addTab(self.splitter, "Server")
        self.tabs.addTab(QWidget(), "Log")
        self.setCentralWidget(self.tabs)


def shown(qtbot: QtBot, columns: int = 3) -> Window:
    window = Window(columns)
    qtbot.addWidget(window)
    window.resize(640, 400)
    window.show()
    return window


def save(state: WindowState, window: Window) -> None:
    state.save(
        window,
        {"reminders": window.table},
        splitters={"server": window.splitter},
        tabs={"main": window.tabs},
    )


def restore(state: WindowState, window: Window) -> bool:
    return state.restore(
        window,
        {"reminders": window.table},
        splitters={"server": window.splitter},
        tabs={"main": window.tabs},
    )


def test_size_tab_splitter_and_column_widths_come_back(
    qtbot: QtBot, data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    before = shown(qtbot)
    # Within the offscreen screen (800 x 600), which restoring clamps to.
    before.resize(712, 433)
    before.table.setColumnWidth(1, 217)
    before.tabs.setCurrentIndex(1)
    before.splitter.setSizes([150, 450])
    splitter_sizes = before.splitter.sizes()
    save(WindowState.in_data_dir(data_dir), before)
    before.close()

    after = shown(qtbot)
    assert restore(WindowState.in_data_dir(data_dir), after) is True

    assert (after.width(), after.height()) == (712, 433)
    assert after.table.columnWidth(1) == 217
    assert after.tabs.currentIndex() == 1
    assert after.splitter.sizes() == splitter_sizes


def test_it_is_kept_in_the_data_folder(qtbot: QtBot, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    window = shown(qtbot)
    state = WindowState.in_data_dir(data_dir)

    save(state, window)

    assert state.path == data_dir / FILE_NAME
    text = (data_dir / FILE_NAME).read_text()
    assert "geometry" in text
    assert "reminders" in text


def test_the_first_start_keeps_the_defaults(qtbot: QtBot, tmp_path: Path) -> None:
    window = shown(qtbot)
    default_width = window.table.columnWidth(1)

    assert restore(WindowState(tmp_path / FILE_NAME), window) is False

    assert (window.width(), window.height()) == (640, 400)
    assert window.table.columnWidth(1) == default_width
    assert window.tabs.currentIndex() == 0


def test_widths_saved_for_other_columns_are_not_applied(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / FILE_NAME
    before = shown(qtbot, columns=3)
    before.table.setColumnWidth(1, 217)
    save(WindowState(path), before)

    after = shown(qtbot, columns=4)
    default_width = after.table.columnWidth(1)
    restore(WindowState(path), after)

    assert after.table.columnWidth(1) == default_width != 217


def test_a_saved_tab_that_no_longer_exists_is_ignored(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / FILE_NAME
    before = shown(qtbot)
    before.tabs.setCurrentIndex(2)
    save(WindowState(path), before)

    after = shown(qtbot)
    after.tabs.removeTab(2)
    restore(WindowState(path), after)

    assert after.tabs.currentIndex() == 0


def test_flags_are_remembered_across_starts(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    assert WindowState(path).flag("tray_message_shown") is False

    WindowState(path).set_flag("tray_message_shown", True)

    assert WindowState(path).flag("tray_message_shown") is True
    assert WindowState(path).flag("something_else") is False
