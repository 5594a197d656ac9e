"""Fixtures named after what they give: a data folder, a store, a clock."""

import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from pushdesk.clock import system_clock
from pushdesk.config import Config, ServerOptions
from pushdesk.events import Event, EventHub
from pushdesk.push.guard import EndpointGuard, GuardedResolver
from pushdesk.push.sender import PushSender
from pushdesk.push.vapid import load_or_create
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.retry import RetryPolicy
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support import redeliveries
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble
from tests.support.sending import run_due

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


# --- sending, as the app sends: scheduler, delivery engine, guarded sender ---


@pytest.fixture
def guard(push_service: PushServiceDouble) -> EndpointGuard:
    """As in the app every endpoint is checked; loopback is allowed only for
    the push-service double."""
    return EndpointGuard([push_service.origin])


@pytest_asyncio.fixture
async def push_sender(
    tmp_path: Path, guard: EndpointGuard
) -> AsyncIterator[PushSender]:
    """pushdesk's sender, its host names resolved through the guard."""
    keys = load_or_create(tmp_path / "vapid_private.pem")
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(guard))
    async with aiohttp.ClientSession(connector=connector) as session:
        # The token's expiry is checked against the push service's real clock,
        # so the sender keeps real time while the scheduler's clock is moved.
        yield PushSender(keys, SUBJECT, session, system_clock, guard=guard, timeout=2)


@pytest.fixture
def engine(
    store: Store, hub: EventHub, clock: FakeClock, push_sender: PushSender
) -> DeliveryEngine:
    retry = RetryPolicy(rng=random.Random(7))
    return DeliveryEngine(store, push_sender, hub, clock, retry=retry)


@pytest.fixture
def scheduler(
    store: Store, engine: DeliveryEngine, hub: EventHub, clock: FakeClock
) -> Scheduler:
    return Scheduler(store, engine, hub, clock)


@pytest.fixture
def send_due(
    scheduler: Scheduler, engine: DeliveryEngine
) -> Callable[[], Awaitable[None]]:
    """One round as the app runs it: fire what is due, send it, settle it."""
    return lambda: run_due(scheduler, engine)
