"""Fixtures named after what they give: a data folder, a store, a clock."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from pushdesk.config import Config, ServerOptions
from pushdesk.events import Event, EventHub
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support import redeliveries
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble

# Qt tests run without a screen unless a test starts Xvfb on purpose.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SUBJECT = "mailto:ops@example.org"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if redeliveries.noted:
        terminalreporter.section("pushes handed to Chromium again")
        for line in redeliveries.noted:
            terminalreporter.write_line(line)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    opened = Store.open(data_dir / "pushdesk.db")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
def services(store: Store, hub: EventHub, clock: FakeClock) -> Services:
    return Services(store, hub, clock)


@pytest.fixture
def events(services: Services) -> list[Event]:
    """Everything the services publish, in order."""
    seen: list[Event] = []
    services.hub.subscribe(seen.append)
    return seen


@pytest_asyncio.fixture
async def push_service() -> AsyncIterator[PushServiceDouble]:
    async with PushServiceDouble() as double:
        yield double


@pytest.fixture
def config(data_dir: Path, push_service: PushServiceDouble) -> Config:
    """A config for a real server on a free loopback port."""
    return Config(
        data_dir=data_dir,
        server=ServerOptions(
            host="127.0.0.1",
            port=0,
            http=True,
            allowed_push_origins=(push_service.origin,),
        ),
        vapid_subject=SUBJECT,
    )
