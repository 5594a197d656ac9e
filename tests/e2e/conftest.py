from collections.abc import AsyncIterator

import pytest_asyncio

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config


@pytest_asyncio.fixture
async def runtime(config: Config) -> AsyncIterator[Runtime]:
    """pushdesk's real server and scheduler on a free loopback port."""
    running = Runtime(config, open_store(config))
    await running.start()
    yield running
    await running.stop()
