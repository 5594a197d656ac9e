import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from pushdesk.domain import SubscriptionInput
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.server.app import create_app
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH
from tests.support.push_service import PushServiceDouble

PUBLIC_KEY = "B" + "A" * 86
ORIGIN = "http://127.0.0.1:9"


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(services, PUBLIC_KEY, allowed_push_origins=(ORIGIN,))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def browser_json(push_service: PushServiceDouble, **extra: Any) -> dict[str, Any]:
    return push_service.new_subscription().to_json() | extra


@pytest.fixture
def https_subscription(push_service: PushServiceDouble) -> dict[str, Any]:
    body = push_service.new_subscription().to_json()
    body["endpoint"] = "https://fcm.googleapis.com/fcm/send/token-123"
    return body


async def test_vapid_public_key_is_served(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/vapid-public-key")

    assert response.status == 200
    assert await response.json() == {"public_key": PUBLIC_KEY}


async def test_health_counts_subscriptions(
    client: TestClient[Any, Any], https_subscription: dict[str, Any]
) -> None:
    await client.post("/api/subscriptions", json=https_subscription)

    body = await (await client.get("/api/health")).json()

    assert body["status"] == "ok"
    assert body["subscriptions"] == 1


async def test_subscribe_creates_then_updates_one_row(
    client: TestClient[Any, Any], store: Store, https_subscription: dict[str, Any]
) -> None:
    first = await client.post(
        "/api/subscriptions",
        json=https_subscription | {"label": "  Anna's   phone "},
        headers={"User-Agent": "Mozilla/5.0 (Android)"},
    )
    again = await client.post(
        "/api/subscriptions",
        json=https_subscription,
        headers={"User-Agent": "Mozilla/5.0 (Android 16)"},
    )

    assert first.status == 201
    assert again.status == 200
    first_id = (await first.json())["id"]
    assert (await again.json())["id"] == first_id
    [row] = store.subscriptions.all()
    assert row.label == "Anna's phone"
    assert row.user_agent == "Mozilla/5.0 (Android 16)"


async def test_unsubscribe_deletes_the_row(
    client: TestClient[Any, Any], store: Store, https_subscription: dict[str, Any]
) -> None:
    await client.post("/api/subscriptions", json=https_subscription)
    proof = {
        "endpoint": https_subscription["endpoint"],
        "auth": https_subscription["keys"]["auth"],
    }

    response = await client.delete("/api/subscriptions", json=proof)
    missing = await client.delete("/api/subscriptions", json=proof)

    assert response.status == 200
    assert store.subscriptions.all() == []
    assert missing.status == 404
    assert "error" in await missing.json()


async def test_only_the_device_itself_can_unsubscribe(
    client: TestClient[Any, Any], store: Store, https_subscription: dict[str, Any]
) -> None:
    await client.post("/api/subscriptions", json=https_subscription)
    endpoint = https_subscription["endpoint"]

    no_secret = await client.delete("/api/subscriptions", json={"endpoint": endpoint})
    wrong = await client.delete(
        "/api/subscriptions",
        json={"endpoint": endpoint, "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
    )

    assert no_secret.status == 400
    assert wrong.status == 404
    assert len(store.subscriptions.all()) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": None}, "endpoint"),
        ({"endpoint": "http://fcm.googleapis.com/x"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"keys": None}, "keys"),
        ({"keys": {"auth": "tBHItJI5svbpez7KI4CCXg"}}, "keys.p256dh"),
        ({"keys": {"p256dh": "BAAA", "auth": "tBHItJI5svbpez7KI4CCXg"}}, "keys.p256dh"),
        ({"label": 5}, "label"),
        ({"label": "x" * 101}, "label"),
        ({"label": "\x1b]0;owned\x07"}, "label"),
        ({"endpoint": "https://user:pw@fcm.googleapis.com/x"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com:99999/x"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com/a\nb"}, "endpoint"),
    ],
)
async def test_bad_subscriptions_are_refused_naming_the_field(
    client: TestClient[Any, Any],
    store: Store,
    https_subscription: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    response = await client.post("/api/subscriptions", json=https_subscription | change)

    assert response.status == 400
    body = await response.json()
    assert body["field"] == field
    assert body["error"]
    assert store.subscriptions.all() == []


async def test_swapped_keys_are_refused(
    client: TestClient[Any, Any], https_subscription: dict[str, Any]
) -> None:
    keys = https_subscription["keys"]
    swapped = {"p256dh": keys["auth"], "auth": keys["p256dh"]}

    response = await client.post(
        "/api/subscriptions", json=https_subscription | {"keys": swapped}
    )

    assert response.status == 400
    assert (await response.json())["field"] == "keys.p256dh"


async def test_padded_standard_base64_keys_are_stored_normalised(
    client: TestClient[Any, Any], store: Store, https_subscription: dict[str, Any]
) -> None:
    import base64

    keys = https_subscription["keys"]
    raw = {k: base64.urlsafe_b64decode(v + "==") for k, v in keys.items()}
    standard = {k: base64.b64encode(v).decode() for k, v in raw.items()}

    response = await client.post(
        "/api/subscriptions", json=https_subscription | {"keys": standard}
    )

    assert response.status == 201
    [row] = store.subscriptions.all()
    assert (row.p256dh, row.auth) == (keys["p256dh"], keys["auth"])


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b"[" * 8000 + b"]" * 8000,
        b'{"endpoint": ' + b"1" * 5000 + b"}",
        b'{"endpoint": "https://fcm.googleapis.com/\\ud800"}',
        b'{"label": "\\udc00"}',
    ],
)
async def test_malformed_bodies_get_a_json_400(
    client: TestClient[Any, Any], body: bytes, store: Store
) -> None:
    response = await client.post("/api/subscriptions", data=body, headers=JSON)

    assert response.status == 400
    assert "error" in await response.json()
    assert store.subscriptions.all() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=foo",
    ],
)
async def test_bodies_that_are_not_declared_json_are_refused(
    client: TestClient[Any, Any], https_subscription: dict[str, Any], content_type: str
) -> None:
    response = await client.post(
        "/api/subscriptions",
        data=json.dumps(https_subscription),
        headers={"Content-Type": content_type},
    )

    assert response.status in (400, 415)
    assert "error" in await response.json()


async def test_oversized_body_is_refused_with_413(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/subscriptions", data=b"{" + b" " * 100_000 + b"}", headers=JSON
    )

    assert response.status == 413
    assert "error" in await response.json()


async def test_allowed_origin_accepts_plain_http_endpoints(
    client: TestClient[Any, Any],
) -> None:
    body = {
        "endpoint": f"{ORIGIN}/push/abc",
        "keys": {
            "p256dh": P256DH,
            "auth": AUTH,
        },
    }
    other = body | {"endpoint": "http://127.0.0.1:10/push/abc"}

    assert (await client.post("/api/subscriptions", json=body)).status == 201
    assert (await client.post("/api/subscriptions", json=other)).status == 400


async def test_unknown_api_route_answers_json_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/nothing-here")

    assert response.status == 404
    assert "error" in await response.json()


async def test_wrong_method_answers_json_405(client: TestClient[Any, Any]) -> None:
    response = await client.put("/api/subscriptions", json={})

    assert response.status == 405
    assert "error" in await response.json()
    assert set(response.headers["Allow"].split(",")) >= {"POST", "DELETE"}


async def test_page_worker_and_manifest_are_served(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/")
    worker = await client.get("/sw.js")
    manifest = await client.get("/manifest.webmanifest")
    icon = await client.get("/icons/icon-192.png")

    assert page.status == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "/sw.js" in await (await client.get("/app.js")).text()
    assert worker.status == 200
    assert "javascript" in worker.headers["Content-Type"]
    assert worker.headers["Cache-Control"] == "no-store"
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    document = json.loads(await manifest.text())
    assert document["display"] == "standalone"
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in document["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for listed in document["icons"]:
        assert (await client.get(listed["src"])).status == 200
    assert 'rel="apple-touch-icon"' in await page.text()
    assert icon.status == 200


async def test_empty_label_clears_the_name_and_absent_label_keeps_it(
    client: TestClient[Any, Any], store: Store, https_subscription: dict[str, Any]
) -> None:
    await client.post("/api/subscriptions", json=https_subscription | {"label": "A"})
    await client.post("/api/subscriptions", json=https_subscription)
    assert store.subscriptions.all()[0].label == "A"

    await client.post("/api/subscriptions", json=https_subscription | {"label": ""})

    assert store.subscriptions.all()[0].label is None


class TestReceipts:
    @pytest.fixture
    def sent(
        self, services: Services, store: Store, clock: FakeClock
    ) -> tuple[int, int]:
        subscription, _ = store.subscriptions.upsert(
            SubscriptionInput("https://fcm.googleapis.com/fcm/send/r", P256DH, AUTH),
            clock.now,
        )
        reminder = services.reminders.schedule("T", "M", None, clock.now)
        return reminder.id, subscription.id

    def body(
        self, services: Services, sent: tuple[int, int], kind: str = "displayed"
    ) -> dict[str, Any]:
        reminder_id, device = sent
        token = ReceiptSigner(services.receipt_secret()).token(reminder_id, device)
        return {"id": reminder_id, "device": device, "receipt": token, "kind": kind}

    async def test_a_valid_receipt_is_counted_once(
        self, client: TestClient[Any, Any], services: Services, sent: tuple[int, int]
    ) -> None:
        for _ in range(2):
            response = await client.post(
                "/api/receipts", json=self.body(services, sent)
            )
            assert response.status == 204
        await client.post("/api/receipts", json=self.body(services, sent, "clicked"))

        reach = services.reminders.reach()[sent[0]]
        assert (reach.displayed, reach.clicked) == (1, 1)

    @pytest.mark.parametrize(
        "change",
        [
            {"receipt": "A" * 22},
            {"device": 999},
            {"id": 999},
        ],
    )
    async def test_a_forged_receipt_is_refused(
        self,
        client: TestClient[Any, Any],
        services: Services,
        sent: tuple[int, int],
        change: dict[str, Any],
    ) -> None:
        response = await client.post(
            "/api/receipts", json=self.body(services, sent) | change
        )

        assert response.status == 403
        assert (await response.json())["field"] == "receipt"
        assert services.reminders.reach().get(sent[0]) is None

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"kind": "read"}, "kind"), ({"id": "1"}, "id"), ({"device": -1}, "device")],
    )
    async def test_malformed_receipts_name_the_field(
        self,
        client: TestClient[Any, Any],
        services: Services,
        sent: tuple[int, int],
        change: dict[str, Any],
        field: str,
    ) -> None:
        response = await client.post(
            "/api/receipts", json=self.body(services, sent) | change
        )

        assert response.status == 400
        assert (await response.json())["field"] == field


class TestReplacingASubscription:
    async def test_the_new_subscription_takes_over_name_and_groups(
        self,
        client: TestClient[Any, Any],
        store: Store,
        push_service: PushServiceDouble,
    ) -> None:
        old = https(push_service, "old") | {"label": "Anna"}
        await client.post("/api/subscriptions", json=old)
        [row] = store.subscriptions.all()
        store.subscriptions.set_groups(row.id, ["Kitchen"])
        new = https(push_service, "new")
        replaces = {"endpoint": old["endpoint"], "auth": old["keys"]["auth"]}

        response = await client.post(
            "/api/subscriptions", json=new | {"replaces": replaces}
        )

        assert response.status == 201
        [device] = store.subscriptions.all()
        assert device.endpoint == new["endpoint"]
        assert (device.label, device.groups) == ("Anna", ("Kitchen",))

    async def test_without_the_old_secret_nothing_is_taken_over(
        self,
        client: TestClient[Any, Any],
        store: Store,
        push_service: PushServiceDouble,
    ) -> None:
        old = https(push_service, "old") | {"label": "Anna"}
        await client.post("/api/subscriptions", json=old)
        new = https(push_service, "new")
        wrong = {"endpoint": old["endpoint"], "auth": new["keys"]["auth"]}

        await client.post("/api/subscriptions", json=new | {"replaces": wrong})

        labels = sorted(str(s.label) for s in store.subscriptions.all())
        assert labels == ["Anna", "None"]


def https(push_service: PushServiceDouble, token: str) -> dict[str, Any]:
    body = push_service.new_subscription().to_json()
    body["endpoint"] = f"https://fcm.googleapis.com/fcm/send/{token}"
    return body


class TestTestNotification:
    async def test_a_device_gets_a_test_only_for_itself_and_only_so_often(
        self,
        client: TestClient[Any, Any],
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        device = https(push_service, "me")
        await client.post("/api/subscriptions", json=device)
        await client.post("/api/subscriptions", json=https(push_service, "other"))
        proof = {"endpoint": device["endpoint"], "auth": device["keys"]["auth"]}

        answers = [
            (await client.post("/api/test-notification", json=proof)).status
            for _ in range(3)
        ]
        refused = await client.post("/api/test-notification", json=proof)
        clock.advance(minutes=1)
        again = await client.post("/api/test-notification", json=proof)

        assert answers == [202, 202, 202]
        assert refused.status == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert again.status == 202
        [me] = [
            s for s in store.subscriptions.all() if s.endpoint == device["endpoint"]
        ]
        targets = {r.target.subscription_ids for r in services.reminders.all()}
        assert targets == {(me.id,)}

    async def test_a_wrong_secret_is_refused(
        self,
        client: TestClient[Any, Any],
        services: Services,
        push_service: PushServiceDouble,
    ) -> None:
        device = https(push_service, "me")
        await client.post("/api/subscriptions", json=device)
        wrong = {"endpoint": device["endpoint"], "auth": "AAAAAAAAAAAAAAAAAAAAAA"}

        response = await client.post("/api/test-notification", json=wrong)

        assert response.status == 403
        assert services.reminders.all() == []
