"""What one client address may ask of the server: request rates, devices,
body size and open pages, each a setting."""

import asyncio
import io
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from pushdesk import settings as catalogue
from pushdesk.errors import InvalidInput
from pushdesk.server.app import LIVE_EVENTS, create_app
from pushdesk.server.events import same_origin
from pushdesk.services import Services
from pushdesk.settings import OperatorSettings, from_texts, problems
from pushdesk.store import Store
from pushdesk.validation import parse_subscription
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble

PUBLIC_KEY = "B" + "A" * 86
SUBJECT = "mailto:ops@example.org"
JSON = {"Content-Type": "application/json"}

Client = TestClient[Any, Any]


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    app = create_app(services, PUBLIC_KEY)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def neighbour(client: Client) -> AsyncIterator[aiohttp.ClientSession]:
    """Another device on the network: the same server from 127.0.0.2."""
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(
        base_url=client.make_url("/"), connector=connector
    ) as session:
        yield session


def save_limits(services: Services, **limits: Any) -> None:
    current = services.settings.current()
    services.settings.save(replace(current, vapid_subject=SUBJECT, **limits))


def device(push_service: PushServiceDouble, token: str) -> dict[str, Any]:
    body = push_service.new_subscription().to_json()
    body["endpoint"] = f"https://fcm.googleapis.com/fcm/send/{token}"
    return body


def proof(body: dict[str, Any]) -> dict[str, str]:
    return {"endpoint": body["endpoint"], "auth": body["keys"]["auth"]}


async def refusal_of(response: aiohttp.ClientResponse) -> str:
    """The error sentence of a refused request, checking the API's shape."""
    body = await response.json()
    assert set(body) == {"error", "field"}
    assert body["field"] is None
    assert isinstance(body["error"], str)
    assert body["error"].strip()
    return str(body["error"])


# --- subscribe requests per address per minute -----------------------------------


class TestSubscribeRate:
    async def test_200_in_a_minute_are_refused_beyond_the_limit_until_it_passes(
        self, client: Client, clock: FakeClock, push_service: PushServiceDouble
    ) -> None:
        body = device(push_service, "phone")

        answers = [
            await client.post("/api/subscriptions", json=body) for _ in range(200)
        ]
        refused = [a for a in answers if a.status == 429]
        clock.advance(seconds=45)
        later = await client.post("/api/subscriptions", json=body)
        clock.advance(seconds=15)
        again = await client.post("/api/subscriptions", json=body)

        assert [a.status for a in answers[:30]] == [201] + [200] * 29
        assert len(refused) == 170
        assert {a.headers["Retry-After"] for a in refused} == {"60"}
        assert "try again in 60 seconds" in await refusal_of(refused[-1])
        assert later.status == 429
        assert later.headers["Retry-After"] == "15"
        assert again.status == 200

    async def test_the_window_slides_rather_than_resetting(
        self,
        client: Client,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        save_limits(services, subscribes_per_minute=2)
        body = device(push_service, "phone")

        first = await client.post("/api/subscriptions", json=body)
        clock.advance(seconds=40)
        second = await client.post("/api/subscriptions", json=body)
        clock.advance(seconds=30)  # the first has left the window, not the second
        third = await client.post("/api/subscriptions", json=body)
        fourth = await client.post("/api/subscriptions", json=body)

        assert [first.status, second.status, third.status] == [201, 200, 200]
        assert fourth.status == 429
        assert fourth.headers["Retry-After"] == "30"

    async def test_another_address_is_not_held_back(
        self,
        client: Client,
        services: Services,
        neighbour: aiohttp.ClientSession,
        push_service: PushServiceDouble,
    ) -> None:
        save_limits(services, subscribes_per_minute=1)
        await client.post("/api/subscriptions", json=device(push_service, "a"))

        mine = await client.post("/api/subscriptions", json=device(push_service, "b"))
        theirs = await neighbour.post(
            "/api/subscriptions", json=device(push_service, "c")
        )

        assert mine.status == 429
        assert theirs.status == 201

    async def test_a_new_limit_applies_to_the_running_server(
        self, client: Client, services: Services, push_service: PushServiceDouble
    ) -> None:
        body = device(push_service, "phone")
        for _ in range(3):
            assert (await client.post("/api/subscriptions", json=body)).status < 300

        save_limits(services, subscribes_per_minute=3)

        assert (await client.post("/api/subscriptions", json=body)).status == 429

    async def test_other_routes_are_not_counted(
        self, client: Client, services: Services
    ) -> None:
        save_limits(services, subscribes_per_minute=1)

        answers = [(await client.get("/api/health")).status for _ in range(5)]

        assert answers == [200] * 5


# --- test notifications per address per minute -----------------------------------


async def test_test_notifications_are_limited_per_minute_with_retry_after(
    client: Client,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    save_limits(services, tests_per_minute=2)
    body = device(push_service, "phone")
    await client.post("/api/subscriptions", json=body)

    allowed = [
        (await client.post("/api/test-notification", json=proof(body))).status
        for _ in range(2)
    ]
    refused = await client.post("/api/test-notification", json=proof(body))
    clock.advance(minutes=1)
    again = await client.post("/api/test-notification", json=proof(body))

    assert allowed == [202, 202]
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "60"
    assert "too often" in await refusal_of(refused)
    assert again.status == 202
    assert len(services.reminders.all()) == 3


# --- devices per address ----------------------------------------------------------


class TestDevicesPerAddress:
    async def test_a_new_device_beyond_the_limit_is_refused_but_known_ones_repost(
        self,
        client: Client,
        services: Services,
        store: Store,
        push_service: PushServiceDouble,
    ) -> None:
        save_limits(services, subscriptions_per_address=2)
        first, second = device(push_service, "one"), device(push_service, "two")
        await client.post("/api/subscriptions", json=first)
        await client.post("/api/subscriptions", json=second)

        third = await client.post(
            "/api/subscriptions", json=device(push_service, "three")
        )
        again = await client.post("/api/subscriptions", json=first | {"label": "A"})

        assert third.status == 403
        assert "already has 2 devices" in await refusal_of(third)
        assert again.status == 200
        assert sorted(s.endpoint[-3:] for s in store.subscriptions.all()) == [
            "one",
            "two",
        ]

    async def test_a_device_replacing_its_old_subscription_is_not_a_new_one(
        self,
        client: Client,
        services: Services,
        store: Store,
        push_service: PushServiceDouble,
    ) -> None:
        save_limits(services, subscriptions_per_address=1)
        old = device(push_service, "old")
        await client.post("/api/subscriptions", json=old)

        new = await client.post(
            "/api/subscriptions",
            json=device(push_service, "new") | {"replaces": proof(old)},
        )

        assert new.status == 201
        assert [s.endpoint[-3:] for s in store.subscriptions.all()] == ["new"]

    async def test_room_comes_back_when_a_device_is_removed(
        self, client: Client, services: Services, push_service: PushServiceDouble
    ) -> None:
        save_limits(services, subscriptions_per_address=1)
        first = device(push_service, "one")
        created = await client.post("/api/subscriptions", json=first)
        services.subscriptions.remove_by_operator((await created.json())["id"])

        second = await client.post(
            "/api/subscriptions", json=device(push_service, "two")
        )

        assert second.status == 201

    async def test_each_address_has_its_own_allowance(
        self,
        client: Client,
        services: Services,
        neighbour: aiohttp.ClientSession,
        push_service: PushServiceDouble,
    ) -> None:
        save_limits(services, subscriptions_per_address=1)
        await client.post("/api/subscriptions", json=device(push_service, "mine"))

        theirs = await neighbour.post(
            "/api/subscriptions", json=device(push_service, "theirs")
        )

        assert theirs.status == 201


# --- request body size ----------------------------------------------------------


class TestBodySize:
    async def test_a_10_mb_body_is_refused_with_413_in_the_json_shape(
        self, client: Client
    ) -> None:
        response = await client.post(
            "/api/subscriptions",
            data=io.BytesIO(b"x" * (10 * 1024 * 1024)),
            headers=JSON,
        )

        assert response.status == 413
        assert "larger than 16 KB" in await refusal_of(response)

    async def test_a_body_announced_too_large_is_refused_before_it_is_sent(
        self, client: Client
    ) -> None:
        # Only the headers and a few bytes go out: an answer proves the server
        # did not wait for (or keep) the other ten megabytes.
        reader, writer = await asyncio.open_connection(
            client.server.host, client.server.port
        )
        writer.write(
            b"POST /api/subscriptions HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: 10485760\r\n\r\n{"
        )
        await writer.drain()
        try:
            status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        finally:
            writer.close()

        assert status_line.startswith(b"HTTP/1.1 413 ")

    async def test_a_chunked_body_is_cut_off_at_the_limit(
        self, client: Client, services: Services
    ) -> None:
        save_limits(services, max_body_kb=4)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b" " * 1024

        response = await client.post("/api/subscriptions", data=chunks(), headers=JSON)

        assert response.status == 413
        assert "larger than 4 KB" in await refusal_of(response)

    async def test_the_limit_is_the_setting(
        self, client: Client, services: Services
    ) -> None:
        save_limits(services, max_body_kb=32)

        fits = await client.post(
            "/api/subscriptions", data=b" " * (20 * 1024) + b"[]", headers=JSON
        )
        too_large = await client.post(
            "/api/subscriptions", data=b" " * (33 * 1024), headers=JSON
        )

        assert fits.status == 400  # read whole, and refused for what it says
        assert too_large.status == 413


# --- WebSockets -----------------------------------------------------------------


async def until_open(client: Client, count: int) -> None:
    """The server counts a socket a loop turn or two after the handshake."""
    live = client.app[LIVE_EVENTS]
    for _ in range(200):
        if live.connected == count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{live.connected} sockets open, not {count}")


# --- the length of a device's name ------------------------------------------------


class TestLabelLength:
    async def test_a_name_longer_than_the_setting_is_a_400_naming_the_label(
        self, client: Client, services: Services, push_service: PushServiceDouble
    ) -> None:
        save_limits(services, max_label_length=20)
        body = device(push_service, "long") | {"label": "x" * 21}

        response = await client.post("/api/subscriptions", json=body)

        assert response.status == 400
        assert await response.json() == {
            "error": "The name is longer than 20 characters.",
            "field": "label",
        }
        assert services.subscriptions.all() == []

    async def test_a_name_as_long_as_the_setting_is_kept(
        self, client: Client, services: Services, push_service: PushServiceDouble
    ) -> None:
        save_limits(services, max_label_length=20)
        body = device(push_service, "fits") | {"label": "y" * 20}

        response = await client.post("/api/subscriptions", json=body)

        assert response.status == 201
        assert [d.label for d in services.subscriptions.all()] == ["y" * 20]

    def test_renaming_and_importing_keep_the_same_limit(
        self, services: Services, push_service: PushServiceDouble
    ) -> None:
        save_limits(services, max_label_length=10)
        [stored] = [
            services.subscriptions.register(
                parse_subscription(device(push_service, "a"))
            )[0]
        ]
        too_long = device(push_service, "b") | {"label": "z" * 11}

        with pytest.raises(InvalidInput, match="longer than 10") as refused:
            services.subscriptions.rename(stored.id, "z" * 11)
        report = services.subscriptions.import_text(json.dumps([too_long]), [])

        assert refused.value.field == "label"
        assert report.rejected == [("item 1", "The name is longer than 10 characters.")]
        assert len(services.subscriptions.all()) == 1


class TestWebSockets:
    async def test_pages_beyond_the_limit_per_address_are_refused_with_429(
        self, client: Client, services: Services
    ) -> None:
        save_limits(services, websockets_per_address=2)
        first = await client.ws_connect("/api/events")
        second = await client.ws_connect("/api/events")
        await until_open(client, 2)

        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/events")
        plain = await client.get("/api/events")
        await first.close()
        await until_open(client, 1)
        third = await client.ws_connect("/api/events")

        assert refused.value.status == 429
        assert plain.status == 429
        assert "Too many pages" in await refusal_of(plain)
        await second.close()
        await third.close()

    async def test_another_address_has_its_own_allowance(
        self,
        client: Client,
        services: Services,
        neighbour: aiohttp.ClientSession,
    ) -> None:
        save_limits(services, websockets_per_address=1)
        mine = await client.ws_connect("/api/events")
        await until_open(client, 1)

        theirs = await neighbour.ws_connect("/api/events")

        await until_open(client, 2)
        await theirs.close()
        await mine.close()

    async def test_a_page_from_another_origin_is_refused_before_the_upgrade(
        self, client: Client
    ) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/events", origin="http://evil.example")
        plain = await client.get(
            "/api/events", headers={"Origin": "http://evil.example"}
        )

        assert refused.value.status == 403
        assert "own page" in await refusal_of(plain)
        assert client.app[LIVE_EVENTS].connected == 0

    async def test_the_pages_own_origin_and_clients_without_one_are_accepted(
        self, client: Client
    ) -> None:
        own = f"http://127.0.0.1:{client.server.port}"

        page = await client.ws_connect("/api/events", origin=own)
        tool = await client.ws_connect("/api/events")

        await until_open(client, 2)
        await page.close()
        await tool.close()


def request_from(origin: str | None, host: str, *, https: bool = False) -> Any:
    headers = {"Host": host} | ({"Origin": origin} if origin is not None else {})
    context = ssl.create_default_context() if https else None
    return make_mocked_request("GET", "/api/events", headers, sslcontext=context)


@pytest.mark.parametrize(
    ("origin", "host", "https"),
    [
        (None, "192.168.1.20:8443", True),
        ("https://192.168.1.20:8443", "192.168.1.20:8443", True),
        ("https://PushDesk.lan:8443", "pushdesk.lan:8443", True),
        ("http://[::1]:8080", "[::1]:8080", False),
        ("http://pushdesk.lan", "pushdesk.lan:80", False),
        # A TLS proxy in front of plain HTTP: the page is https on 443.
        ("https://pushdesk.example.org", "pushdesk.example.org", False),
    ],
)
def test_same_origin_accepts_the_address_the_page_was_served_from(
    origin: str | None, host: str, https: bool
) -> None:
    assert same_origin(request_from(origin, host, https=https))


@pytest.mark.parametrize(
    ("origin", "host", "https"),
    [
        ("https://evil.example", "192.168.1.20:8443", True),
        ("https://192.168.1.20:9443", "192.168.1.20:8443", True),
        ("http://192.168.1.20:8443", "192.168.1.20:8443", True),
        ("https://192.168.1.21:8443", "192.168.1.20:8443", True),
        ("null", "192.168.1.20:8443", True),
        ("https://192.168.1.20:8443/page", "192.168.1.20:8443", True),
        ("https://user@192.168.1.20:8443", "192.168.1.20:8443", True),
        ("https://192.168.1.20:99999", "192.168.1.20:8443", True),
        ("file://", "192.168.1.20:8443", True),
        ("http://pushdesk.lan:8080", "pushdesk.lan", False),
    ],
)
def test_same_origin_refuses_any_other(origin: str, host: str, https: bool) -> None:
    assert not same_origin(request_from(origin, host, https=https))


# --- the settings ---------------------------------------------------------------

VALID = OperatorSettings(vapid_subject=SUBJECT)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_body_kb", 3, "largest request body in KB must be from 4 to 1024, not 3"),
        ("max_body_kb", 2048, "from 4 to 1024, not 2048"),
        ("subscriptions_per_address", 0, "devices per network address"),
        ("subscribes_per_minute", 0, "Subscribe requests per address per minute"),
        ("subscribes_per_minute", 10_001, "from 1 to 10000"),
        ("tests_per_minute", 601, "from 1 to 600, not 601"),
        ("websockets_per_address", -1, "Open pages per network address"),
        ("max_label_length", 9, "The longest device name"),
        ("max_label_length", 1001, "The longest device name"),
    ],
)
def test_a_limit_out_of_range_is_refused_with_its_reason(
    field: str, value: int, message: str
) -> None:
    changes: dict[str, Any] = {field: value}
    found = problems(replace(VALID, **changes))

    assert list(found) == [field]
    assert message in found[field]


def test_the_limits_default_to_the_documented_values() -> None:
    defaults = OperatorSettings()

    assert (
        defaults.max_body_kb,
        defaults.subscriptions_per_address,
        defaults.subscribes_per_minute,
        defaults.tests_per_minute,
        defaults.websockets_per_address,
        defaults.max_label_length,
    ) == (16, 20, 30, 3, 10, 100)
    assert problems(replace(VALID, max_body_kb=4, websockets_per_address=1000)) == {}


def test_a_hand_edited_limit_out_of_range_keeps_its_default() -> None:
    damaged: list[str] = []
    key = catalogue.BY_NAME["subscribes_per_minute"].key

    read = from_texts({key: "0"}, damaged.append)

    assert read.subscribes_per_minute == 30
    assert damaged == [key]


def test_limits_are_saved_and_read_back(services: Services) -> None:
    save_limits(services, max_body_kb=64, tests_per_minute=10)

    saved = services.settings.current()

    assert (saved.max_body_kb, saved.tests_per_minute) == (64, 10)
