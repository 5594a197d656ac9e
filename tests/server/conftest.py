"""A real server for the visitor routes, and visitors' devices subscribed
through it. Modules with a server of their own define their own ``client``."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from pushdesk.server.app import create_app
from pushdesk.services import Services
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.settings import change_settings
from tests.support.visitors import Client, Proof, proof_of, subscribed

PUBLIC_KEY = "B" + "A" * 86


@pytest_asyncio.fixture
async def client(
    services: Services, push_service: PushServiceDouble
) -> AsyncIterator[Client]:
    """A server that accepts the push-service double's endpoints and can sign
    pushes (it has a VAPID subject)."""
    change_settings(services, vapid_subject="mailto:ops@example.org")
    app = create_app(services, PUBLIC_KEY, allowed_push_origins=(push_service.origin,))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def anna_browser(
    client: Client, push_service: PushServiceDouble
) -> BrowserSubscription:
    browser = push_service.new_subscription()
    await subscribed(client, browser, expect=(201,))
    return browser


@pytest.fixture
def anna(anna_browser: BrowserSubscription) -> Proof:
    return proof_of(anna_browser)


@pytest_asyncio.fixture
async def bob(client: Client, push_service: PushServiceDouble) -> Proof:
    return await subscribed(client, push_service.new_subscription(), expect=(201,))
