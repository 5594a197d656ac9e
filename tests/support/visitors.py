"""A visitor's device as the page knows it: the proof it keeps after
subscribing, for the routes that take one."""

import base64
from typing import Any

from aiohttp.test_utils import TestClient

from pushdesk.store import Store
from tests.support.push_service import BrowserSubscription

Client = TestClient[Any, Any]
Proof = dict[str, str]


def proof_of(browser: BrowserSubscription) -> Proof:
    document = browser.to_json()
    return {"endpoint": document["endpoint"], "auth": document["keys"]["auth"]}


async def subscribed(
    client: Client,
    browser: BrowserSubscription,
    expect: tuple[int, ...] = (200, 201),
    **extra: Any,
) -> Proof:
    """The browser subscribes through the page; its proof is what it keeps."""
    answer = await client.post("/api/subscriptions", json=browser.to_json() | extra)
    assert answer.status in expect, await answer.text()
    return proof_of(browser)


def wrong(proof: Proof) -> Proof:
    """The same endpoint with a secret of the right shape that is not its own."""
    other = base64.urlsafe_b64encode(b"\x01" * 16).decode().rstrip("=")
    return proof | {"auth": other}


def device_id(store: Store, proof: Proof) -> int:
    """The id the server gave the device this proof is for."""
    device = store.subscriptions.find(proof["endpoint"])
    assert device is not None
    return device.id
