"""The main window as a whole: tabs working together, settings, tray, state."""

from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pushdesk.services import Services
from pushdesk.ui.desktop import application
from pushdesk.ui.dialogs.settings import SettingsDialog
from pushdesk.ui.main_window import MainWindow
from pushdesk.ui.tray import TRAY_MESSAGE_SHOWN
from pushdesk.ui.window_state import WindowState
from tests.support.clock import FakeClock
from tests.support.devices import add_device


def make_window(
    qtbot: QtBot,
    services: Services,
    clock: FakeClock,
    *,
    state: WindowState | None = None,
    tray: bool = False,
) -> MainWindow:
    window = MainWindow(services, [], clock, state=state, tray_available=lambda: tray)
    qtbot.addWidget(window)
    return window


def test_show_deliveries_opens_the_log_filtered_to_that_reminder(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    reminder = services.reminders.schedule(
        "Log me", "Body", None, clock.now + timedelta(hours=1)
    )
    window = make_window(qtbot, services, clock)
    window.reminders_page.view.selectRow(0)

    window.reminders_page.deliveries_action.trigger()

    assert window.tabs.currentWidget() is window.log_page
    assert window.log_page.query.reminder_id == reminder.id


def test_the_devices_tab_says_how_many_devices_there_are(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    window = make_window(qtbot, services, clock)
    assert window.tabs.tabText(1) == "Devices (0)"

    add_device(services, "phone")
    add_device(services, "laptop")

    qtbot.waitUntil(lambda: window.tabs.tabText(1) == "Devices (2)")


def test_settings_open_from_the_menu(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    window = make_window(qtbot, services, clock)

    window.settings_action.trigger()

    dialogs = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, SettingsDialog) and w.isVisible()
    ]
    assert len(dialogs) == 1
    assert window.settings_action.shortcut().toString() == "Ctrl+,"


def test_with_a_tray_closing_hides_and_only_quit_stops(
    qtbot: QtBot, services: Services, clock: FakeClock, data_dir: Path
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    state = WindowState.in_data_dir(data_dir)
    window = make_window(qtbot, services, clock, state=state, tray=True)
    stopped: list[bool] = []
    window.closed.connect(lambda: stopped.append(True))
    window.show()

    window.close()
    assert not window.isVisible()
    assert stopped == []
    # The first time, the tray said that pushdesk is still running.
    assert state.flag(TRAY_MESSAGE_SHOWN)

    window.bring_to_front()
    assert window.isVisible()
    window.quit()
    assert stopped == [True]


def test_without_a_tray_closing_the_window_stops_pushdesk(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    window = make_window(qtbot, services, clock, tray=False)
    stopped: list[bool] = []
    window.closed.connect(lambda: stopped.append(True))
    window.show()

    window.close()

    assert stopped == [True]


def test_the_window_comes_back_as_it_was_left(
    qtbot: QtBot, services: Services, clock: FakeClock, data_dir: Path
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    first = make_window(qtbot, services, clock, state=WindowState.in_data_dir(data_dir))
    first.show()
    first.resize(700, 450)  # inside the offscreen screen (800 × 600)
    first.reminders_page.view.setColumnWidth(1, 333)
    first.tabs.setCurrentIndex(2)
    left_at = first.size()
    first.quit()

    second = make_window(
        qtbot, services, clock, state=WindowState.in_data_dir(data_dir)
    )
    second.restore_state()

    assert second.size() == left_at
    assert second.reminders_page.view.columnWidth(1) == 333
    assert second.tabs.currentIndex() == 2


def test_the_application_names_its_desktop_entry(qapp: QApplication) -> None:
    app = application()

    assert app is qapp
    assert app.applicationName() == "pushdesk"
    # The menu entry packaging/linux/ installs; Wayland links the window to it.
    assert app.desktopFileName() == "pushdesk"
    assert not app.windowIcon().isNull()
