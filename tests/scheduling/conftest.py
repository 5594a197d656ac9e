from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio

from pushdesk.events import EventHub
from pushdesk.push.sender import PushSender
from pushdesk.push.vapid import load_or_create
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.store import Store
from tests.support.clock import FakeClock


@pytest_asyncio.fixture
async def scheduler(
    store: Store, hub: EventHub, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Scheduler]:
    keys = load_or_create(tmp_path / "vapid_private.pem")
    async with aiohttp.ClientSession() as session:
        sender = PushSender(keys, "mailto:ops@example.org", session, timeout=5)
        engine = DeliveryEngine(store, sender, hub, clock)
        yield Scheduler(store, engine, hub, clock)
