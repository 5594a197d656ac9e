"""The operator's window on a real Qt event loop (offscreen), with the real
server and scheduler under it and the push-service double behind them."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from pushdesk.app import Runtime, open_store
from pushdesk.cli import main as cli_main
from pushdesk.events import EventHub, ReminderSent
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.ui.desktop import run_window
from pushdesk.ui.dialogs.reminder import wall_clock
from pushdesk.ui.formatting import local_time
from pushdesk.ui.main_window import MainWindow
from pushdesk.ui.pages.reminders import RemindersModel
from pushdesk.validation import parse_subscription
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH
from tests.support.push_service import PushServiceDouble
from tests.ui.conftest import RunOnQtLoop, gui_config


async def until(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Let the loop run until the window shows something, within a bound."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, (
            "the window never showed it"
        )
        await asyncio.sleep(0.02)


def cell(model: RemindersModel, row: int, column: int) -> str:
    return str(model.data(model.index(row, column)))


def test_reminder_made_in_the_dialog_appears_and_becomes_sent(
    qtbot: QtBot, qt_loop: RunOnQtLoop[None], data_dir: Path
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with PushServiceDouble(clock=clock) as push:
            config = gui_config(data_dir, push.origin)
            runtime = Runtime(config, open_store(config), clock=clock)
            await runtime.start()
            browser = push.new_subscription()
            runtime.services.subscriptions.register(
                parse_subscription(browser.to_json(), [push.origin])
            )
            assert runtime.server is not None
            window = MainWindow(runtime.services, runtime.server.urls(), clock)
            qtbot.addWidget(window)
            window.show()
            sent = asyncio.Event()
            runtime.hub.subscribe(
                lambda e: sent.set() if isinstance(e, ReminderSent) else None
            )

            dialog = window.open_new_reminder()
            ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
            assert not ok.isEnabled()
            assert dialog.message_problem.text() == "The message is empty."
            qtbot.keyClicks(dialog.title_edit, "Kitchen")
            qtbot.keyClicks(dialog.message_edit, "Pizza is ready")
            dialog.minutes_spin.setValue(5)
            assert ok.isEnabled()
            qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

            model = window.reminders_page.model
            assert model.rowCount() == 1
            assert cell(model, 0, 1) == "Kitchen"
            assert cell(model, 0, 2) == "Pizza is ready"
            assert cell(model, 0, 5) == "scheduled"
            due = local_time(clock.now + timedelta(minutes=5))
            assert cell(model, 0, 0) == f"{due} (in 5 min)"

            clock.advance(minutes=5)
            assert runtime.scheduler is not None
            runtime.scheduler.wake()
            await asyncio.wait_for(sent.wait(), timeout=10)

            # The window coalesces a burst of events into one refresh.
            await until(lambda: cell(model, 0, 5) == "sent")
            assert cell(model, 0, 6) == "1"  # delivered
            [delivered] = push.received
            assert delivered.json()["body"] == "Pizza is ready"

            window.close()
            await runtime.stop()

    qt_loop(scenario())


# The window needs only the services below it; no server or loop for these.


@pytest.fixture
def window(qtbot: QtBot, services: Services, clock: FakeClock) -> MainWindow:
    shown = MainWindow(services, [], clock)
    qtbot.addWidget(shown)
    return shown


def test_dialog_refuses_a_time_in_the_past_and_a_bad_url(
    qtbot: QtBot, window: MainWindow, clock: FakeClock
) -> None:
    dialog = window.open_new_reminder()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dialog.message_edit, "Hello")

    qtbot.keyClicks(dialog.url_edit, "ftp://example.org")
    assert not ok.isEnabled()
    assert "http" in dialog.url_problem.text()
    dialog.url_edit.clear()

    dialog.at_radio.setChecked(True)
    past = (clock.now - timedelta(hours=1)).astimezone()
    dialog.at_edit.setDateTime(wall_clock(past))
    assert not ok.isEnabled()
    assert dialog.when_problem.text() == "That time is in the past."
    dialog.reject()
    assert window.reminders_page.model.rowCount() == 0


def test_cancel_action_cancels_the_selected_scheduled_reminder(
    qtbot: QtBot, window: MainWindow, services: Services, clock: FakeClock
) -> None:
    reminder = services.reminders.schedule(
        "T", "M", None, clock.now + timedelta(hours=1)
    )
    page = window.reminders_page
    assert not page.cancel_action.isEnabled()

    page.view.selectRow(0)
    assert page.cancel_action.isEnabled()
    page.cancel_action.trigger()

    assert services.reminders.get(reminder.id).status.value == "cancelled"
    qtbot.waitUntil(lambda: cell(page.model, 0, 5) == "cancelled")
    page.view.selectRow(0)
    assert not page.cancel_action.isEnabled()


def test_window_sees_reminders_added_by_another_process(
    qtbot: QtBot, window: MainWindow, data_dir: Path, clock: FakeClock
) -> None:
    other_store = Store.open(data_dir / "pushdesk.db")
    Services(other_store, EventHub(), clock).reminders.schedule(
        "CLI", "From a script", None, clock.now
    )
    other_store.close()

    model = window.reminders_page.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    assert cell(model, 0, 1) == "CLI"


def test_window_follows_the_command_line_on_devices_and_groups(
    qtbot: QtBot, window: MainWindow, services: Services, data_dir: Path
) -> None:
    document = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/tablet",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }
    device, _ = services.subscriptions.register(parse_subscription(document))
    window.show()
    window.tabs.setCurrentWidget(window.devices_page)
    model = window.devices_page.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)

    # The real `pushdesk` command, with its own connection to the database.
    for argv in (
        ["devices", "rename", str(device.id), "Kitchen tablet"],
        ["devices", "add-group", str(device.id), "Kitchen"],
    ):
        assert cli_main([*argv, "--data-dir", str(data_dir)]) == 0

    def shown() -> tuple[object, object]:
        name = model.data(model.index(0, 0), Qt.ItemDataRole.DisplayRole)
        groups = model.data(model.index(0, 2), Qt.ItemDataRole.DisplayRole)
        return name, groups

    qtbot.waitUntil(lambda: shown() == ("Kitchen tablet", "Kitchen"), timeout=5000)


def test_closing_the_window_stops_everything_and_returns_0(
    qtbot: QtBot, qt_loop: RunOnQtLoop[int], data_dir: Path
) -> None:
    async def scenario() -> int:
        async with PushServiceDouble() as push:
            config = gui_config(data_dir, push.origin)
            runtime = Runtime(config, open_store(config))
            app_task = asyncio.ensure_future(run_window(runtime))
            window = await _window_appears()
            assert runtime.server is not None
            port = runtime.server.port
            assert f"http://127.0.0.1:{port}/" in window.urls_label.text()

            window.close()
            code = await asyncio.wait_for(app_task, timeout=10)

            # The port is free again: the server really stopped.
            import socket

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port))
            return code

    assert qt_loop(scenario()) == 0


async def _window_appears() -> MainWindow:
    for _ in range(500):
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                return widget
        await asyncio.sleep(0.01)
    raise AssertionError("the main window never appeared")


def test_no_screen_is_one_sentence_pointing_at_serve() -> None:
    import pytest

    from pushdesk.errors import PushdeskError
    from pushdesk.ui.desktop import check_screen

    with pytest.raises(PushdeskError, match="pushdesk serve"):
        check_screen({})
    check_screen({"DISPLAY": ":99"})
    check_screen({"QT_QPA_PLATFORM": "offscreen"})


def test_status_line_says_lan_addresses_need_https_for_push() -> None:
    from pushdesk.ui.main_window import _where_to_open

    text = _where_to_open(["http://192.168.1.20:8080/", "http://localhost:8080/"])

    assert text.index("localhost") < text.index("192.168.1.20")
    assert "phones need HTTPS for push" in text


def test_an_alert_is_shown_above_the_tables_until_dealt_with(
    window: MainWindow, services: Services, store: Store, clock: FakeClock
) -> None:
    from pushdesk.events import Alert

    window.show()
    assert not window.alert_label.isVisible()

    store.alerts.raise_once(
        "credentials:x", "push.example refuses our VAPID", clock.now
    )
    services.hub.publish(Alert("credentials:x", "push.example refuses our VAPID"))

    assert window.alert_label.isVisible()
    assert "push.example refuses our VAPID" in window.alert_label.text()


def test_status_line_with_https_points_new_phones_at_the_setup_page() -> None:
    from pushdesk.ui.main_window import _where_to_open

    text = _where_to_open(
        ["https://192.168.1.20:8443/", "https://localhost:8443/"],
        ["http://192.168.1.20:8080/"],
    )

    assert "phones need HTTPS" not in text
    assert "first time on a phone" in text
    assert "http://192.168.1.20:8080/" in text
