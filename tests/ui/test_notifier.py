"""Desktop notifications when sending fails for good or credentials are refused."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from pushdesk.app import Runtime, open_store
from pushdesk.domain import ReminderStatus
from pushdesk.events import Alert, ReminderChanged, ReminderSent, SubscriptionsChanged
from pushdesk.scheduling.recurrence import parse_rule
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.ui.notifier import MAX_LINES, Notifier, Problem, summary
from pushdesk.ui.watcher import DataWatcher
from pushdesk.validation import parse_subscription
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble
from tests.ui.conftest import RunOnQtLoop, gui_config


class Messages:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def __call__(self, title: str, text: str) -> None:
        self.shown.append((title, text))


@pytest.fixture
def messages() -> Messages:
    return Messages()


@contextmanager
def watched(
    services: Services, messages: Messages, quiet_ms: int = 60_000
) -> Iterator[Notifier]:
    """A notifier fed from the hub as the window feeds it: by a DataWatcher."""
    watcher = DataWatcher(services)
    notifier = Notifier(messages, services, gather_ms=20, quiet_ms=quiet_ms)
    watcher.happened.connect(notifier.on_event)
    try:
        yield notifier
    finally:
        watcher.stop()


@pytest.fixture
def notifier(
    qtbot: QtBot, services: Services, messages: Messages
) -> Iterator[Notifier]:
    with watched(services, messages) as watching:
        yield watching


def finished(
    services: Services,
    store: Store,
    clock: FakeClock,
    title: str,
    status: ReminderStatus,
    delivered: int,
    total: int,
) -> None:
    """A one-shot whose sends settled with ``status``, as the engine leaves it."""
    reminder = services.reminders.schedule(title, "Message", None, clock.now)
    store.reminders.fire(reminder, [], clock.now, late=False, next_due=None)
    store.reminders.finish(reminder.id, status, clock.now)
    services.hub.publish(
        ReminderSent(reminder.id, clock.now, title, "Message", delivered, total)
    )


def standup_sent(
    services: Services, clock: FakeClock, delivered: int, total: int, failed: int
) -> None:
    """A daily reminder's occurrence went out with these counts."""
    daily = services.reminders.schedule(
        "Standup", "M", None, clock.now, repeat=parse_rule("daily", "UTC")
    )
    services.hub.publish(
        ReminderSent(
            daily.id, clock.now, "Standup", "M", delivered, total, failed=failed
        )
    )


class TestWhatIsSaid:
    def test_a_reminder_that_reached_nobody(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        finished(services, store, clock, "Kitchen", ReminderStatus.FAILED, 0, 3)

        qtbot.waitUntil(lambda: bool(messages.shown))
        assert messages.shown == [
            ("A reminder was not delivered", "“Kitchen” reached none of its 3 devices.")
        ]

    def test_a_reminder_that_reached_some(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        finished(services, store, clock, "Kitchen", ReminderStatus.PARTLY_SENT, 2, 3)

        qtbot.waitUntil(lambda: bool(messages.shown))
        assert messages.shown == [
            (
                "A reminder was only partly delivered",
                "“Kitchen” reached 2 of 3 devices.",
            )
        ]

    def test_refused_credentials(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
    ) -> None:
        text = "fcm.googleapis.com refuses pushdesk's VAPID credentials (403)."
        services.hub.publish(Alert("credentials:https://fcm.googleapis.com", text))

        qtbot.waitUntil(lambda: bool(messages.shown))
        assert messages.shown == [("pushdesk needs attention", text)]

    def test_a_sent_reminder_is_not_a_problem_even_with_gone_devices(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        finished(services, store, clock, "Fine", ReminderStatus.SENT, 2, 3)
        finished(services, store, clock, "Broken", ReminderStatus.FAILED, 0, 1)

        qtbot.waitUntil(lambda: bool(messages.shown))
        [(title, text)] = messages.shown
        assert title == "A reminder was not delivered"
        assert "Broken" in text
        assert "Fine" not in text

    def test_a_repeating_reminder_that_fell_short(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        clock: FakeClock,
    ) -> None:
        # A repeating reminder goes back to "scheduled": only the counts tell.
        standup_sent(services, clock, delivered=1, total=4, failed=3)

        qtbot.waitUntil(lambda: bool(messages.shown))
        assert messages.shown == [
            (
                "A reminder was only partly delivered",
                "“Standup” reached 1 of 4 devices.",
            )
        ]

    def test_a_repeating_reminder_whose_missing_devices_were_gone_is_fine(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        # Three delivered, one device found gone (removed), none failed.
        standup_sent(services, clock, delivered=3, total=4, failed=0)
        finished(services, store, clock, "Broken", ReminderStatus.FAILED, 0, 1)

        qtbot.waitUntil(lambda: bool(messages.shown))
        [(_title, text)] = messages.shown
        assert "Broken" in text
        assert "Standup" not in text


class TestBursts:
    def test_several_failures_at_once_are_one_message(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        for title in ("One", "Two", "Three"):
            finished(services, store, clock, title, ReminderStatus.FAILED, 0, 2)
        services.hub.publish(Alert("credentials:x", "Credentials refused."))

        assert messages.shown == []  # still gathering
        qtbot.waitUntil(lambda: bool(messages.shown))

        [(title, text)] = messages.shown
        assert title == "4 problems with sending"
        assert text.splitlines() == [
            "“One” reached none of its 2 devices.",
            "“Two” reached none of its 2 devices.",
            "“Three” reached none of its 2 devices.",
            "Credentials refused.",
        ]

    def test_what_comes_up_after_a_message_waits_for_the_next(
        self,
        qtbot: QtBot,
        services: Services,
        messages: Messages,
        store: Store,
        clock: FakeClock,
    ) -> None:
        with watched(services, messages, quiet_ms=200):
            finished(services, store, clock, "First", ReminderStatus.FAILED, 0, 1)
            qtbot.waitUntil(lambda: len(messages.shown) == 1)

            finished(services, store, clock, "Second", ReminderStatus.FAILED, 0, 1)
            finished(services, store, clock, "Third", ReminderStatus.FAILED, 0, 1)

            qtbot.waitUntil(lambda: len(messages.shown) == 2)
            assert messages.shown[1][0] == "2 problems with sending"

    def test_a_long_list_is_cut_short(self) -> None:
        problems = [Problem("t", f"line {n}") for n in range(MAX_LINES + 3)]

        title, text = summary(problems)

        assert title == f"{MAX_LINES + 3} problems with sending"
        lines = text.splitlines()
        assert lines[:MAX_LINES] == [f"line {n}" for n in range(MAX_LINES)]
        assert lines[MAX_LINES:] == ["…and 3 more; see the pushdesk window."]

    def test_other_events_say_nothing(
        self,
        qtbot: QtBot,
        notifier: Notifier,
        messages: Messages,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        services.sending.pause()
        services.hub.publish(ReminderChanged(1))
        services.hub.publish(SubscriptionsChanged())
        finished(services, store, clock, "Broken", ReminderStatus.FAILED, 0, 1)

        qtbot.waitUntil(lambda: bool(messages.shown))
        assert [title for title, _ in messages.shown] == [
            "A reminder was not delivered"
        ]


def test_a_real_fan_out_with_a_refusing_device_is_reported(
    qtbot: QtBot,
    qt_loop: RunOnQtLoop[None],
    data_dir: Path,
    messages: Messages,
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with PushServiceDouble(clock=clock) as push:
            config = gui_config(data_dir, push.origin)
            runtime = Runtime(config, open_store(config), clock=clock)
            await runtime.start()
            try:
                good, bad = push.new_subscription(), push.new_subscription()
                for browser in (good, bad):
                    runtime.services.subscriptions.register(
                        parse_subscription(browser.to_json(), [push.origin])
                    )
                push.respond_with(bad, 400)
                with watched(runtime.services, messages):
                    runtime.services.reminders.schedule(
                        "Lunch", "Pizza is ready", None, clock.now
                    )

                    deadline = asyncio.get_running_loop().time() + 10
                    while not messages.shown:
                        assert asyncio.get_running_loop().time() < deadline
                        await asyncio.sleep(0.02)
            finally:
                await runtime.stop()

    qt_loop(scenario())

    assert messages.shown == [
        ("A reminder was only partly delivered", "“Lunch” reached 1 of 2 devices.")
    ]
