"""Settings another process saves (the CLI) reach a running pushdesk."""

from dataclasses import replace
from pathlib import Path

import pytest

from pushdesk.events import Event, EventHub, SettingsChanged
from pushdesk.outside_writes import OutsideWrites
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock


@pytest.fixture(autouse=True)
def contact(services: Services) -> None:
    """Saved settings need one (as after the first start)."""
    services.settings.save(
        replace(services.settings.current(), vapid_subject="mailto:ops@example.org")
    )


def settings_changes(hub: EventHub) -> list[tuple[str, ...]]:
    heard: list[tuple[str, ...]] = []

    def on_event(event: Event) -> None:
        if isinstance(event, SettingsChanged):
            heard.append(event.names)

    hub.subscribe(on_event)
    return heard


def save_elsewhere(data_dir: Path, **values: object) -> None:
    """As `pushdesk settings set` does, in its own connection."""
    other = Store.open(data_dir / "pushdesk.db")
    try:
        services = Services(other, EventHub(), FakeClock())
        services.settings.save(replace(services.settings.current(), **values))
    finally:
        other.close()


def test_a_setting_saved_by_another_process_is_announced_once(
    services: Services, hub: EventHub, data_dir: Path
) -> None:
    outside = OutsideWrites(services)
    heard = settings_changes(hub)

    save_elsewhere(data_dir, tests_per_minute=9, visitor_reminders=False)
    outside.check()
    outside.check()

    assert heard == [("tests_per_minute", "visitor_reminders")]
    assert services.settings.current().tests_per_minute == 9


def test_nothing_is_announced_without_a_write_elsewhere(
    services: Services, hub: EventHub
) -> None:
    outside = OutsideWrites(services)
    heard = settings_changes(hub)

    services.settings.save(replace(services.settings.current(), tests_per_minute=5))
    outside.check()

    # The service announced its own save; the look adds nothing.
    assert heard == [("tests_per_minute",)]


def test_only_what_the_other_process_changed_is_announced(
    services: Services, hub: EventHub, data_dir: Path
) -> None:
    outside = OutsideWrites(services)
    services.settings.save(replace(services.settings.current(), tests_per_minute=5))
    heard = settings_changes(hub)

    save_elsewhere(data_dir, websockets_per_address=3)
    outside.check()

    assert heard == [("websockets_per_address",)]


def test_other_writes_without_settings_announce_nothing(
    services: Services, hub: EventHub, data_dir: Path, clock: FakeClock
) -> None:
    outside = OutsideWrites(services)
    heard = settings_changes(hub)
    other = Store.open(data_dir / "pushdesk.db")
    Services(other, EventHub(), clock).reminders.schedule("T", "M", None, clock.now)
    other.close()

    outside.check()

    assert heard == []
