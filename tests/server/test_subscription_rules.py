"""What POST /api/subscriptions accepts, one test per rule, through the real
server; and that the subscriber import keeps the very same rules."""

import base64
import gzip
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pushdesk.server.app import create_app
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH

PUBLIC_KEY = "B" + "A" * 86
DOUBLE = "http://127.0.0.1:9"  # the operator allowed this push-service double
ENDPOINT = "https://fcm.googleapis.com/fcm/send/token-1"

Client = TestClient[Any, Any]


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    app = create_app(services, PUBLIC_KEY, allowed_push_origins=(DOUBLE,))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def subscription(endpoint: str = ENDPOINT, **change: Any) -> dict[str, Any]:
    body = {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }
    return body | change


async def refused_field(client: Client, body: Any) -> str | None:
    """Post ``body``; it must be refused with a 400 naming a field."""
    response = await client.post("/api/subscriptions", json=body)

    assert response.status == 400
    answer = await response.json()
    assert isinstance(answer["error"], str)
    assert answer["error"]
    field: str | None = answer["field"]
    return field


def point(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key() -> bytes:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


class TestEndpoint:
    @pytest.mark.parametrize(
        "endpoint",
        [
            "https://169.254.169.254/latest/meta-data/",
            "https://127.0.0.1/push/1",
            "https://[::1]/push/1",
            "https://192.168.1.1/push/1",
            "https://localhost/push/1",
            "https://example.com/push",
            "https://fcm.googleapis.com.example.com/fcm/send/1",
            "https://evilfcm.googleapis.com/fcm/send/1",
            "https://www.googleapis.com/fcm/send/1",
        ],
    )
    async def test_hosts_that_are_no_push_service_are_refused(
        self, client: Client, store: Store, endpoint: str
    ) -> None:
        assert await refused_field(client, subscription(endpoint)) == "endpoint"
        assert store.subscriptions.all() == []

    async def test_plain_http_is_refused(self, client: Client) -> None:
        body = subscription("http://fcm.googleapis.com/fcm/send/1")

        assert await refused_field(client, body) == "endpoint"

    @pytest.mark.parametrize(
        "endpoint",
        [
            "https://user@fcm.googleapis.com/fcm/send/1",
            "https://user:secret@fcm.googleapis.com/fcm/send/1",
        ],
    )
    async def test_user_info_is_refused(self, client: Client, endpoint: str) -> None:
        assert await refused_field(client, subscription(endpoint)) == "endpoint"

    @pytest.mark.parametrize(
        "endpoint",
        [
            "https://fcm.googleapis.com/fcm/send/1#fragment",
            "https://fcm.googleapis.com/fcm/send/" + "a" * 2100,
            "https://fcm.googleapis.com:8443/fcm/send/1",
            "https://fcm.googleapis.com/",
            "https://fcm.googleapis.com/fcm/send/\u202e1",
        ],
        ids=["fragment", "too-long", "other-port", "no-path", "not-ascii"],
    )
    async def test_odd_urls_of_a_push_service_are_refused(
        self, client: Client, endpoint: str
    ) -> None:
        assert await refused_field(client, subscription(endpoint)) == "endpoint"

    @pytest.mark.parametrize(
        "endpoint",
        [
            "https://fcm.googleapis.com/fcm/send/a",
            "https://android.googleapis.com/gcm/send/a",
            "https://updates.push.services.mozilla.com/wpush/v2/a",
            "https://web.push.apple.com/QGx-a",
            "https://wns2-par02p.notify.windows.com/w/?token=a",
            "https://FCM.googleapis.com:443/fcm/send/a",
        ],
    )
    async def test_every_known_push_service_is_accepted(
        self, client: Client, store: Store, endpoint: str
    ) -> None:
        response = await client.post("/api/subscriptions", json=subscription(endpoint))

        assert response.status == 201
        assert [s.endpoint for s in store.subscriptions.all()] == [endpoint]

    async def test_an_origin_the_operator_allowed_is_accepted(
        self, client: Client
    ) -> None:
        allowed = subscription(f"{DOUBLE}/push/1")
        other_port = subscription("http://127.0.0.1:10/push/1")

        assert (await client.post("/api/subscriptions", json=allowed)).status == 201
        assert await refused_field(client, other_port) == "endpoint"

    async def test_the_reason_names_what_is_wrong(self, client: Client) -> None:
        response = await client.post(
            "/api/subscriptions", json=subscription("https://example.com/push")
        )

        answer = await response.json()
        assert "push service" in answer["error"]
        assert "example.com" in answer["error"]


class TestKeys:
    @pytest.mark.parametrize(
        ("raw", "why"),
        [
            (new_key()[:64], "64 bytes"),
            (new_key() + b"\x00", "66 bytes"),
            (new_key()[:-1] + bytes([new_key()[-1] ^ 1]), "not on the curve"),
            (b"\x04" + bytes(64), "not on the curve"),
            (b"\x02" + new_key()[1:], "not uncompressed"),
        ],
    )
    async def test_p256dh_must_be_an_uncompressed_p256_point(
        self, client: Client, raw: bytes, why: str
    ) -> None:
        body = subscription(keys={"p256dh": point(raw), "auth": AUTH})

        assert await refused_field(client, body) == "keys.p256dh", why

    @pytest.mark.parametrize("size", [15, 17, 0])
    async def test_auth_must_be_sixteen_bytes(self, client: Client, size: int) -> None:
        body = subscription(keys={"p256dh": P256DH, "auth": point(b"a" * size)})

        assert await refused_field(client, body) == "keys.auth"

    @pytest.mark.parametrize("value", ["not base64!", "AAA=A", 16, None])
    async def test_keys_that_are_not_base64_text_are_refused(
        self, client: Client, value: Any
    ) -> None:
        body = subscription(keys={"p256dh": P256DH, "auth": value})

        assert await refused_field(client, body) == "keys.auth"

    @pytest.mark.parametrize(
        "spell",
        [
            lambda raw: base64.b64encode(raw).decode(),
            lambda raw: base64.urlsafe_b64encode(raw).decode(),
            lambda raw: base64.b64encode(raw).decode().rstrip("="),
        ],
        ids=["standard-padded", "url-padded", "standard-unpadded"],
    )
    async def test_keys_in_any_base64_spelling_are_stored_unpadded_url_safe(
        self, client: Client, store: Store, spell: Any
    ) -> None:
        key, secret = new_key(), b"\xfb\xff\xfe" + bytes(13)  # has + and / in base64
        body = subscription(keys={"p256dh": spell(key), "auth": spell(secret)})

        response = await client.post("/api/subscriptions", json=body)

        assert response.status == 201
        [row] = store.subscriptions.all()
        assert (row.p256dh, row.auth) == (point(key), point(secret))
        assert not {"=", "+", "/"} & set(row.p256dh + row.auth)

    async def test_swapped_keys_are_refused_naming_the_field(
        self, client: Client, store: Store
    ) -> None:
        swapped = subscription(keys={"p256dh": AUTH, "auth": P256DH})

        response = await client.post("/api/subscriptions", json=swapped)

        answer = await response.json()
        assert (response.status, answer["field"]) == (400, "keys.p256dh")
        assert "swapped" in answer["error"]
        assert store.subscriptions.all() == []

    async def test_an_auth_that_is_a_p256dh_key_says_so(self, client: Client) -> None:
        body = subscription(keys={"p256dh": P256DH, "auth": P256DH})

        response = await client.post("/api/subscriptions", json=body)

        answer = await response.json()
        assert answer["field"] == "keys.auth"
        assert "swapped" in answer["error"]


class TestExpirationTime:
    @pytest.mark.parametrize("value", [None, 0, 1767225600000, 1.5e12])
    async def test_null_or_a_number_is_accepted(
        self, client: Client, value: Any
    ) -> None:
        body = subscription(expirationTime=value)

        assert (await client.post("/api/subscriptions", json=body)).status == 201

    @pytest.mark.parametrize("value", ["1767225600000", -1, True, [], {"at": 1}])
    async def test_anything_else_is_refused(self, client: Client, value: Any) -> None:
        body = subscription(expirationTime=value)

        assert await refused_field(client, body) == "expirationTime"

    @pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
    async def test_numbers_json_cannot_hold_are_refused(
        self, client: Client, store: Store, number: bytes
    ) -> None:
        body = (
            b'{"endpoint": "%s", "expirationTime": %s, '
            b'"keys": {"p256dh": "%s", "auth": "%s"}}'
            % (ENDPOINT.encode(), number, P256DH.encode(), AUTH.encode())
        )

        response = await client.post(
            "/api/subscriptions",
            data=body,
            headers={"Content-Type": "application/json"},
        )

        assert response.status == 400
        assert "error" in await response.json()
        assert store.subscriptions.all() == []


class TestOneRowPerEndpoint:
    async def test_posting_again_updates_keys_and_last_seen_not_a_new_row(
        self, client: Client, store: Store, clock: FakeClock
    ) -> None:
        first = await client.post("/api/subscriptions", json=subscription())
        clock.advance(days=3)
        key, secret = new_key(), bytes(range(16))
        # New keys under the same endpoint come with the old secret as proof.
        renewed = subscription(
            keys={"p256dh": point(key), "auth": point(secret)},
            replaces={"endpoint": ENDPOINT, "auth": AUTH},
        )

        again = await client.post("/api/subscriptions", json=renewed)

        assert (first.status, again.status) == (201, 200)
        assert (await first.json())["id"] == (await again.json())["id"]
        [row] = store.subscriptions.all()
        assert (row.p256dh, row.auth) == (point(key), point(secret))
        assert row.last_seen_at == clock.now
        assert row.created_at < row.last_seen_at


class TestLabel:
    @pytest.mark.parametrize(
        "label",
        [
            "Anna\u202egnp.exe",  # right-to-left override
            "\u202aAnna",
            "\u2066Anna\u2069",  # isolates
            "An\u200bna",  # zero-width space
            "Anna\u00ad",  # soft hyphen
            "\ufeffAnna",
            "Anna\x00",
            "Anna\x1b[31m",
            "x" * 101,
        ],
    )
    async def test_hidden_or_overlong_labels_are_refused(
        self, client: Client, store: Store, label: str
    ) -> None:
        assert await refused_field(client, subscription(label=label)) == "label"
        assert store.subscriptions.all() == []

    @pytest.mark.parametrize(
        ("label", "stored"),
        [
            ("👩\u200d💻 Dev  laptop", "👩\u200d💻 Dev laptop"),
            ("Küche\u00a0 Tablet ", "Küche Tablet"),
            ("מטבח", "מטבח"),
            ("x" * 100, "x" * 100),
        ],
    )
    async def test_printable_labels_are_stored_with_spaces_collapsed(
        self, client: Client, store: Store, label: str, stored: str
    ) -> None:
        response = await client.post(
            "/api/subscriptions", json=subscription(label=label)
        )

        assert response.status == 201
        assert store.subscriptions.all()[0].label == stored

    async def test_the_overrides_are_named_in_the_reason(self, client: Client) -> None:
        response = await client.post(
            "/api/subscriptions", json=subscription(label="a\u202eb")
        )

        assert "direction" in (await response.json())["error"]


class TestErrorShape:
    async def test_every_refusal_carries_a_field_key_even_without_a_field(
        self, client: Client
    ) -> None:
        not_json = await client.post(
            "/api/subscriptions",
            data=b"{",
            headers={"Content-Type": "application/json"},
        )
        not_an_object = await client.post("/api/subscriptions", json=[1])
        nowhere = await client.get("/api/nothing")

        for response in (not_json, not_an_object, nowhere):
            answer = await response.json()
            assert answer["field"] is None
            assert answer["error"].endswith(".")

    async def test_a_ten_megabyte_body_is_refused_with_a_json_413(
        self, client: Client, store: Store
    ) -> None:
        body = b'{"label": "' + b"x" * 10_000_000 + b'"}'

        response = await client.post(
            "/api/subscriptions",
            data=io.BytesIO(body),
            headers={"Content-Type": "application/json"},
        )

        assert response.status == 413
        answer = await response.json()
        assert set(answer) == {"error", "field"}
        assert store.subscriptions.all() == []

    @pytest.mark.parametrize("encoding", ["deflate", "gzip", "br", "zstd", "x-odd"])
    async def test_a_compressed_body_gets_a_json_415_and_stores_nothing(
        self, client: Client, store: Store, encoding: str
    ) -> None:
        body = json.dumps(subscription()).encode()
        headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
        if encoding == "gzip":
            body = gzip.compress(body)  # well-formed, and still refused

        response = await client.post("/api/subscriptions", data=body, headers=headers)

        assert response.status == 415
        assert await response.json() == {
            "error": "The body must not be compressed.",
            "field": None,
        }
        assert store.subscriptions.all() == []

    async def test_identity_is_no_compression(
        self, client: Client, store: Store
    ) -> None:
        headers = {"Content-Type": "application/json", "Content-Encoding": "identity"}

        response = await client.post(
            "/api/subscriptions", data=json.dumps(subscription()), headers=headers
        )

        assert response.status == 201
        assert len(store.subscriptions.all()) == 1


class TestImportKeepsTheRules:
    @pytest.mark.parametrize(
        ("document", "reason"),
        [
            (subscription("https://169.254.169.254/x"), "push service"),
            (subscription("http://fcm.googleapis.com/x"), "https"),
            (subscription(keys={"p256dh": AUTH, "auth": P256DH}), "swapped"),
            (subscription(label="a\u202eb"), "direction"),
            (subscription(expirationTime="never"), "expirationTime"),
        ],
    )
    def test_an_import_refuses_what_the_api_refuses(
        self, services: Services, document: dict[str, Any], reason: str
    ) -> None:

        report = services.subscriptions.import_text(json.dumps([document]), [])

        [(where, why)] = report.rejected
        assert where == "item 1"
        assert reason in why
        assert services.subscriptions.count() == 0

    def test_an_import_stores_keys_normalised(self, services: Services) -> None:

        key = new_key()
        document = subscription(
            keys={"p256dh": base64.b64encode(key).decode(), "auth": AUTH}
        )

        services.subscriptions.import_text(json.dumps([document]), [])

        [row] = services.subscriptions.all()
        assert row.p256dh == point(key)
