import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from pushdesk.clock import system_clock
from pushdesk.events import EventHub
from pushdesk.push.guard import EndpointGuard, GuardedResolver
from pushdesk.push.sender import PushSender
from pushdesk.push.vapid import load_or_create
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.retry import RetryPolicy
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.push_service import BrowserSubscription, PushServiceDouble


@pytest.fixture
def guard(push_service: PushServiceDouble) -> EndpointGuard:
    """As in the app every endpoint is checked; loopback is allowed only for
    the push-service double."""
    return EndpointGuard([push_service.origin])


@pytest_asyncio.fixture
async def engine(
    store: Store, hub: EventHub, clock: FakeClock, tmp_path: Path, guard: EndpointGuard
) -> AsyncIterator[DeliveryEngine]:
    keys = load_or_create(tmp_path / "vapid_private.pem")
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(guard))
    async with aiohttp.ClientSession(connector=connector) as session:
        # The token's expiry is checked against the push service's real clock,
        # so the sender keeps real time while the scheduler's clock is moved.
        sender = PushSender(
            keys,
            "mailto:ops@example.org",
            session,
            system_clock,
            guard=guard,
            timeout=2,
        )
        retry = RetryPolicy(rng=random.Random(7))
        yield DeliveryEngine(store, sender, hub, clock, retry=retry)


@pytest.fixture
def scheduler(
    store: Store, engine: DeliveryEngine, hub: EventHub, clock: FakeClock
) -> Scheduler:
    return Scheduler(store, engine, hub, clock)


def subscribe(
    services: Services,
    push_service: PushServiceDouble,
    count: int = 1,
    groups: list[str] | None = None,
) -> list[BrowserSubscription]:
    browsers = [push_service.new_subscription() for _ in range(count)]
    for browser in browsers:
        document = browser.to_json() | {"groups": groups or []}
        services.subscriptions.import_text(
            json.dumps([document]), [push_service.origin]
        )
    return browsers


async def run_due(scheduler: Scheduler, engine: DeliveryEngine) -> None:
    """One round as the app runs it: fire what is due, send what is ready."""
    scheduler.fire_due()
    await engine.drain()
    engine.finish_settled()
