"""What a client on the network can reach, and that it changes nothing of the
operator's.

Issue 6: reminders, devices and settings are changed only in the desktop app
and the local CLI. The server's routes are listed here in full, so a new one
fails these tests until someone has looked at it; the paths an operator's API
would plausibly have are tried with every method and must change nothing; and
the routes that do write (a device about itself) need that device's proof.
"""

import base64
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config, ServerOptions
from pushdesk.domain import SubscriptionInput
from pushdesk.server.app import create_app
from pushdesk.server.onboarding import create_onboarding_app
from pushdesk.server.tls import LocalCA
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock

PUBLIC_KEY = "B" + "A" * 86
SUBJECT = "mailto:ops@example.org"
HTTPS_PORT = 8443

Client = TestClient[Any, Any]
Route = tuple[str, str]

# Every route of the HTTPS (or plain-HTTP) server. Adding one is a decision
# about what strangers on the network may do: review it, then list it here.
MAIN_ROUTES = {
    ("GET", "/"),
    ("HEAD", "/"),
    ("GET", "/app.js"),
    ("HEAD", "/app.js"),
    ("GET", "/app.css"),
    ("HEAD", "/app.css"),
    ("GET", "/sw.js"),
    ("HEAD", "/sw.js"),
    ("GET", "/manifest.webmanifest"),
    ("HEAD", "/manifest.webmanifest"),
    ("GET", "/icons/{name}"),
    ("HEAD", "/icons/{name}"),
    ("GET", "/api/vapid-public-key"),
    ("HEAD", "/api/vapid-public-key"),
    ("GET", "/api/health"),
    ("HEAD", "/api/health"),
    ("GET", "/api/events"),
    # The only routes that write, each for one device about itself.
    ("POST", "/api/subscriptions"),
    ("DELETE", "/api/subscriptions"),
    ("POST", "/api/receipts"),
    ("POST", "/api/test-notification"),
    # Issue 8: a visitor's reminders for their own device, proven by its
    # secret; they reach no other device and no operator's reminder.
    ("POST", "/api/self-reminders"),
    ("POST", "/api/self-reminders/list"),
    ("DELETE", "/api/self-reminders/{id}"),
}

# The plain-HTTP set-up page beside HTTPS: the CA certificate, and a redirect
# to HTTPS for anything else.
SET_UP_ROUTES = {
    ("GET", "/"),
    ("HEAD", "/"),
    ("GET", "/pushdesk-ca.crt"),
    ("HEAD", "/pushdesk-ca.crt"),
    ("GET", "/pushdesk-ca.cer"),
    ("HEAD", "/pushdesk-ca.cer"),
    ("GET", "/onboarding.css"),
    ("HEAD", "/onboarding.css"),
    ("*", "/{tail}"),
}

# Where an API for the operator's objects would plausibly live. {reminder}
# and {device} are the ids of the stored ones.
OPERATOR_PATHS = [
    "/api/reminders",
    "/api/reminders/{reminder}",
    "/api/reminders/{reminder}/send",
    "/api/reminders/{reminder}/cancel",
    "/api/send",
    "/api/settings",
    "/api/settings/limits",
    "/api/limits",
    "/api/devices",
    "/api/devices/{device}",
    "/api/devices/{device}/test",
    "/api/devices/{device}/groups",
    "/api/subscriptions/{device}",
    "/api/subscriptions/{device}/label",
    "/api/subscriptions/import",
    "/api/subscriptions/export",
    "/api/groups",
    "/api/groups/Kitchen",
    "/api/deliveries",
    "/api/log",
    "/api/vapid",
    "/api/vapid-public-key",
    "/api/health",
    "/api",
    "/api/",
    "/admin",
    "/admin/settings",
    "/settings",
    "/reminders",
    "/devices",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# What an attacker would send, had any of those routes existed.
HOSTILE_BODY = {
    "title": "pwned",
    "message": "pwned",
    "label": "pwned",
    "groups": ["pwned"],
    "due_at": "2026-12-03T09:00:00Z",
    "tests_per_minute": 600,
    "subscriptions_per_address": 1000,
    "vapid_subject": "mailto:attacker@example.org",
}


def routes(app: web.Application) -> set[Route]:
    return {(route.method, route.resource.canonical) for route in app.router.routes()}


def contents(store: Store) -> dict[str, list[str]]:
    """Every row of every table, for comparing before and after."""
    return {
        table: sorted(repr(row) for row in store.db.execute(f'SELECT * FROM "{table}"'))
        for table in store.db.table_names()
    }


def browser_keys() -> dict[str, str]:
    """Fresh keys as a browser makes them for a new subscription."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64(point), "auth": b64(secrets.token_bytes(16))}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- (a) the routes, in full -----------------------------------------------------


@pytest.fixture
def https_config(tmp_path: Path) -> Config:
    """pushdesk as it starts by default: HTTPS, and the set-up page beside it."""
    return Config(
        data_dir=tmp_path / "data",
        server=ServerOptions(host="127.0.0.1", port=0, helper_port=0),
        vapid_subject=SUBJECT,
    )


async def test_the_running_servers_have_exactly_the_reviewed_routes(
    https_config: Config,
) -> None:
    runtime = Runtime(https_config, open_store(https_config))
    await runtime.start()
    try:
        assert runtime.server is not None
        main = routes(runtime.server.app)
        assert runtime.server.onboarding is not None
        set_up = routes(runtime.server.onboarding)
    finally:
        await runtime.stop()

    assert main == MAIN_ROUTES
    assert set_up == SET_UP_ROUTES


def test_the_plain_http_server_has_the_same_routes(services: Services) -> None:
    assert routes(create_app(services, PUBLIC_KEY)) == MAIN_ROUTES


# --- (b) the operator's objects are out of reach ---------------------------------


@pytest.fixture
def operator_data(services: Services, clock: FakeClock) -> dict[str, int]:
    """A reminder, a device in a group, and settings the operator saved."""
    reminder = services.reminders.schedule(
        "Stand-up", "In five minutes", None, clock.now + timedelta(hours=1)
    )
    device, _ = services.subscriptions.register(
        SubscriptionInput(
            "https://fcm.googleapis.com/fcm/send/anna",
            **browser_keys(),
            label="Anna",
        )
    )
    services.subscriptions.set_groups(device.id, ["Kitchen"])
    current = services.settings.current()
    services.settings.save(
        replace(current, vapid_subject=SUBJECT, tests_per_minute=2, max_body_kb=8)
    )
    return {"reminder": reminder.id, "device": device.id}


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    app = create_app(services, PUBLIC_KEY)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def set_up_page(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Client]:
    ca = LocalCA(tmp_path / "tls", clock)
    app = create_onboarding_app(ca, lambda: HTTPS_PORT, ["127.0.0.1"])
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def answer_of(response: aiohttp.ClientResponse) -> str | None:
    """What is wrong with an answer to a request that must be refused."""
    status, path = response.status, response.url.path
    if not 400 <= status < 500:
        return f"{response.method} {path}: {status}"
    if path.startswith("/api/") and response.method != "HEAD":
        if response.content_type != "application/json":
            return f"{response.method} {path}: {response.content_type}"
        body = await response.json()
        if set(body) != {"error", "field"} or not body["error"]:
            return f"{response.method} {path}: {body}"
    return None


@pytest.mark.parametrize("path", OPERATOR_PATHS)
async def test_no_method_on_an_operator_path_answers_or_changes_anything(
    client: Client,
    services: Services,
    store: Store,
    operator_data: dict[str, int],
    path: str,
) -> None:
    url = path.format(**operator_data)
    before, settings = contents(store), services.settings.current()

    wrong = []
    for method in METHODS:
        if (method, url) in MAIN_ROUTES:
            continue  # a public route; its own tests say what it does
        response = await client.request(method, url, json=HOSTILE_BODY)
        wrong.append(await answer_of(response))

    assert [w for w in wrong if w] == []
    assert contents(store) == before
    assert services.settings.current() == settings


@pytest.mark.parametrize("path", OPERATOR_PATHS)
async def test_the_set_up_page_sends_every_method_on_to_https(
    set_up_page: Client,
    services: Services,
    store: Store,
    operator_data: dict[str, int],
    path: str,
) -> None:
    url = path.format(**operator_data)
    before = contents(store)

    answers = [
        await set_up_page.request(method, url, json=HOSTILE_BODY, allow_redirects=False)
        for method in METHODS
    ]

    expected = f"https://127.0.0.1:{HTTPS_PORT}{url}"
    assert [(a.status, a.headers["Location"]) for a in answers] == [
        (308, expected)
    ] * len(METHODS)
    assert contents(store) == before


# --- (c) what writes needs the device's own proof --------------------------------

ENDPOINT = "https://fcm.googleapis.com/fcm/send/anna"
OTHER_ENDPOINT = "https://fcm.googleapis.com/fcm/send/mallory"


@pytest.fixture
def anna() -> dict[str, Any]:
    """The subscription Anna's browser made and posted."""
    return {"endpoint": ENDPOINT, "expirationTime": None, "keys": browser_keys()}


@pytest_asyncio.fixture
async def subscribed(client: Client, anna: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/api/subscriptions",
        json=anna | {"label": "Anna"},
        headers={"User-Agent": "Anna's phone"},
    )
    assert response.status == 201
    return anna


def wrong_proofs(device: int) -> dict[Route, dict[str, Any]]:
    """A request on each writing route about an existing device, without its
    secret: a random auth, or a receipt that was never signed."""
    auth = browser_keys()["auth"]
    return {
        ("DELETE", "/api/subscriptions"): {"endpoint": ENDPOINT, "auth": auth},
        ("POST", "/api/test-notification"): {"endpoint": ENDPOINT, "auth": auth},
        ("POST", "/api/receipts"): {
            "id": 1,
            "device": device,
            "receipt": "A" * 22,
            "kind": "displayed",
        },
        ("POST", "/api/subscriptions"): {
            "endpoint": ENDPOINT,
            "keys": browser_keys(),
            "label": "pwned",
            "replaces": {"endpoint": ENDPOINT, "auth": auth},
        },
        ("POST", "/api/self-reminders"): {
            "endpoint": ENDPOINT,
            "auth": auth,
            "message": "pwned",
            "in_minutes": 5,
        },
        ("POST", "/api/self-reminders/list"): {"endpoint": ENDPOINT, "auth": auth},
        ("DELETE", "/api/self-reminders/1"): {"endpoint": ENDPOINT, "auth": auth},
    }


@pytest.mark.parametrize(
    "route",
    [
        ("DELETE", "/api/subscriptions"),
        ("POST", "/api/test-notification"),
        ("POST", "/api/receipts"),
        ("POST", "/api/subscriptions"),
        ("POST", "/api/self-reminders"),
        ("POST", "/api/self-reminders/list"),
        ("DELETE", "/api/self-reminders/1"),
    ],
    ids=[
        "unsubscribe",
        "test-notification",
        "receipt",
        "subscribe",
        "self-reminder",
        "self-reminder-list",
        "self-reminder-cancel",
    ],
)
async def test_a_writing_route_without_the_devices_proof_changes_nothing(
    client: Client,
    store: Store,
    services: Services,
    clock: FakeClock,
    subscribed: dict[str, Any],
    route: Route,
) -> None:
    [device] = store.subscriptions.all()
    services.reminders.schedule("T", "M", None, clock.now)
    before = contents(store)
    method, path = route

    response = await client.request(method, path, json=wrong_proofs(device.id)[route])

    assert response.status in (403, 404)
    assert set(await response.json()) == {"error", "field"}
    assert contents(store) == before


class TestAKnownEndpoint:
    """Knowing a device's endpoint is not owning it: its keys, name and last
    sighting change only for a request that carries its auth secret.

    A stranger's keys on Anna's endpoint would not bring them her reminders
    (the push service still delivers to her browser), but her browser could
    no longer decrypt any, while the push service accepted every one: she
    would silently get nothing.
    """

    async def test_new_keys_without_the_old_secret_are_refused(
        self,
        client: Client,
        store: Store,
        clock: FakeClock,
        subscribed: dict[str, Any],
    ) -> None:
        [before] = store.subscriptions.all()
        clock.advance(days=1)
        stranger = {"endpoint": ENDPOINT, "keys": browser_keys(), "label": "pwned"}

        response = await client.post(
            "/api/subscriptions", json=stranger, headers={"User-Agent": "Mallory"}
        )

        assert response.status == 403
        assert (await response.json())["field"] == "keys.auth"
        assert store.subscriptions.all() == [before]

    async def test_a_secret_proving_another_device_does_not_take_this_one(
        self,
        client: Client,
        store: Store,
        subscribed: dict[str, Any],
    ) -> None:
        # Mallory subscribes a device of her own, then "replaces" it with
        # Anna's endpoint and keys of her choosing.
        mallory = {"endpoint": OTHER_ENDPOINT, "keys": browser_keys()}
        await client.post("/api/subscriptions", json=mallory)
        before = store.subscriptions.all()
        takeover = {
            "endpoint": ENDPOINT,
            "keys": browser_keys(),
            "replaces": {"endpoint": OTHER_ENDPOINT, "auth": mallory["keys"]["auth"]},
        }

        response = await client.post("/api/subscriptions", json=takeover)

        assert response.status == 403
        assert store.subscriptions.all() == before

    async def test_the_same_keys_again_refresh_the_device_and_may_rename_it(
        self,
        client: Client,
        store: Store,
        clock: FakeClock,
        subscribed: dict[str, Any],
    ) -> None:
        clock.advance(days=1)

        response = await client.post(
            "/api/subscriptions", json=subscribed | {"label": "Anna's tablet"}
        )

        assert response.status == 200
        [device] = store.subscriptions.all()
        assert (device.label, device.last_seen_at) == ("Anna's tablet", clock.now)

    async def test_new_keys_with_the_old_secret_replace_them_keeping_the_groups(
        self,
        client: Client,
        store: Store,
        subscribed: dict[str, Any],
    ) -> None:
        [device] = store.subscriptions.all()
        store.subscriptions.set_groups(device.id, ["Kitchen"])
        rotated = browser_keys()
        proof = {"endpoint": ENDPOINT, "auth": subscribed["keys"]["auth"]}

        response = await client.post(
            "/api/subscriptions",
            json={"endpoint": ENDPOINT, "keys": rotated, "replaces": proof},
        )

        assert response.status == 200
        [after] = store.subscriptions.all()
        assert (after.id, after.p256dh, after.auth) == (
            device.id,
            rotated["p256dh"],
            rotated["auth"],
        )
        assert (after.label, after.groups) == ("Anna", ("Kitchen",))

    async def test_an_unknown_endpoint_needs_no_proof(
        self, client: Client, store: Store, subscribed: dict[str, Any]
    ) -> None:
        newcomer = {"endpoint": OTHER_ENDPOINT, "keys": browser_keys()}

        response = await client.post("/api/subscriptions", json=newcomer)

        assert response.status == 201
        assert len(store.subscriptions.all()) == 2
