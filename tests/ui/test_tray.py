"""The tray menu and what closing the window means while a tray is there.

Offscreen there is no system tray, so availability is handed in.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from pushdesk.events import EventHub
from pushdesk.services import Services
from pushdesk.services.sending import SendingControl
from pushdesk.store import Store
from pushdesk.ui.tray import (
    STILL_RUNNING_TEXT,
    STILL_RUNNING_TITLE,
    CloseToTray,
    Tray,
)
from pushdesk.ui.watcher import DataWatcher
from pushdesk.ui.window_state import FILE_NAME, WindowState


class Calls:
    def __init__(self) -> None:
        self.made: list[str] = []

    def to(self, name: str) -> "_Call":
        return _Call(self.made, name)


class _Call:
    def __init__(self, made: list[str], name: str) -> None:
        self._made = made
        self._name = name

    def __call__(self) -> None:
        self._made.append(self._name)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def watcher(qtbot: QtBot, services: Services) -> Iterator[DataWatcher]:
    watching = DataWatcher(services)
    yield watching
    watching.stop()


@pytest.fixture
def tray(
    qtbot: QtBot, services: Services, calls: Calls, watcher: DataWatcher
) -> Iterator[Tray]:
    made = Tray(
        services,
        show_window=calls.to("show window"),
        new_reminder=calls.to("new reminder"),
        quit_app=calls.to("quit"),
        changed=watcher.changed,
        available=lambda: True,
    )
    yield made
    made.hide()


class TestMenu:
    def test_it_offers_show_new_pause_and_quit(self, tray: Tray) -> None:
        texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]

        assert texts == [
            "Show window",
            "New reminder…",
            "Pause all sending",
            "Quit pushdesk",
        ]
        assert tray.icon.contextMenu() is tray.menu

    @pytest.mark.parametrize(
        ("action", "call"),
        [
            ("show_action", "show window"),
            ("new_action", "new reminder"),
            ("quit_action", "quit"),
        ],
    )
    def test_each_item_calls_what_it_says(
        self, tray: Tray, calls: Calls, action: str, call: str
    ) -> None:
        getattr(tray, action).trigger()

        assert calls.made == [call]

    def test_a_click_on_the_icon_shows_the_window(
        self, tray: Tray, calls: Calls
    ) -> None:
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)

        assert calls.made == ["show window"]

    def test_the_context_click_only_opens_the_menu(
        self, tray: Tray, calls: Calls
    ) -> None:
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)

        assert calls.made == []


class TestPause:
    def test_the_item_pauses_and_resumes_all_sending(
        self, tray: Tray, services: Services
    ) -> None:
        assert not tray.pause_action.isChecked()

        tray.pause_action.trigger()

        assert services.sending.paused is True
        assert tray.pause_action.isChecked()
        assert "paused" in tray.icon.toolTip()

        tray.pause_action.trigger()

        assert services.sending.paused is False
        assert not tray.pause_action.isChecked()
        assert "paused" not in tray.icon.toolTip()

    def test_it_shows_a_pause_made_elsewhere_in_this_process(
        self, qtbot: QtBot, tray: Tray, services: Services
    ) -> None:
        services.sending.pause()

        assert tray.pause_action.isChecked()

        # Within the watcher's burst: passed on when the burst is over.
        services.sending.resume()

        qtbot.waitUntil(lambda: not tray.pause_action.isChecked(), timeout=1000)

    def test_it_shows_a_pause_made_by_another_process(
        self, qtbot: QtBot, tray: Tray, data_dir: Path
    ) -> None:
        other = Store.open(data_dir / "pushdesk.db")
        try:
            SendingControl(other, EventHub()).pause()
        finally:
            other.close()

        # Seen by the watcher's poll of SQLite's data_version.
        qtbot.waitUntil(tray.pause_action.isChecked, timeout=3000)

    def test_it_starts_checked_when_sending_was_left_paused(
        self, qtbot: QtBot, services: Services, calls: Calls
    ) -> None:
        services.sending.pause()

        tray = Tray(
            services,
            calls.to("show"),
            calls.to("new"),
            calls.to("quit"),
            available=lambda: True,
        )

        assert tray.pause_action.isChecked()


def test_without_a_tray_nothing_is_shown(
    qtbot: QtBot, services: Services, calls: Calls
) -> None:
    tray = Tray(
        services,
        calls.to("show"),
        calls.to("new"),
        calls.to("quit"),
        available=lambda: False,
    )

    assert tray.available() is False
    assert tray.show() is False
    assert not tray.icon.isVisible()


class Messages:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def __call__(self, title: str, text: str) -> None:
        self.shown.append((title, text))


class TestCloseToTray:
    def test_with_a_tray_the_window_hides_and_says_so_once(
        self, qtbot: QtBot, tmp_path: Path
    ) -> None:
        messages = Messages()
        closing = CloseToTray(WindowState(tmp_path / FILE_NAME), messages)

        assert closing.should_hide(tray_available=True) is True
        assert closing.should_hide(tray_available=True) is True

        assert messages.shown == [(STILL_RUNNING_TITLE, STILL_RUNNING_TEXT)]
        assert "still running in the tray" in STILL_RUNNING_TEXT

    def test_the_message_is_not_repeated_after_a_restart(
        self, qtbot: QtBot, tmp_path: Path
    ) -> None:
        first, later = Messages(), Messages()
        CloseToTray(WindowState(tmp_path / FILE_NAME), first).should_hide(True)

        hides = CloseToTray(WindowState(tmp_path / FILE_NAME), later).should_hide(True)

        assert hides is True
        assert len(first.shown) == 1
        assert later.shown == []

    def test_without_a_tray_closing_quits(self, qtbot: QtBot, tmp_path: Path) -> None:
        messages = Messages()
        closing = CloseToTray(WindowState(tmp_path / FILE_NAME), messages)

        assert closing.should_hide(tray_available=False) is False
        assert messages.shown == []

    def test_quit_from_the_menu_really_closes(
        self, qtbot: QtBot, tmp_path: Path
    ) -> None:
        closing = CloseToTray(WindowState(tmp_path / FILE_NAME), Messages())

        closing.quit_requested()

        assert closing.should_hide(tray_available=True) is False
