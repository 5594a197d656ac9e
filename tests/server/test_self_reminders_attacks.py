"""Hostile requests against the visitor-reminder routes (issue 8).

Whatever a visitor sends, they reach only devices they proved, learn nothing
of other devices' reminders, stay within the limits, and get JSON errors
below 500.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from pushdesk.domain import ReminderStatus
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.live_pages import identify, live_page, next_message
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.settings import change_settings
from tests.support.visitors import (
    Client,
    Proof,
    device_id,
    proof_of,
    subscribed,
    wrong,
)

JSON = {"Content-Type": "application/json"}


async def create(client: Client, proof: Proof, **fields: Any) -> Any:
    """A field set to None is left out of the body."""
    body = proof | {"message": "Check the oven", "in_minutes": 15} | fields
    body = {key: value for key, value in body.items() if value is not None}
    return await client.post("/api/self-reminders", json=body)


async def created_id(client: Client, proof: Proof, **fields: Any) -> int:
    answer = await create(client, proof, **fields)
    assert answer.status == 201, await answer.text()
    return int((await answer.json())["reminder"]["id"])


async def listing(client: Client, proof: Proof) -> list[dict[str, Any]]:
    answer = await client.post("/api/self-reminders/list", json=proof)
    assert answer.status == 200, await answer.text()
    return list((await answer.json())["reminders"])


def allow_many_requests(services: Services) -> None:
    change_settings(services, visitor_requests_per_minute=600)


async def error_of(answer: Any) -> dict[str, Any]:
    assert answer.status < 500, await answer.text()
    assert answer.content_type == "application/json", await answer.text()
    body = await answer.json()
    assert set(body) == {"error", "field"}, body
    assert isinstance(body["error"], str)
    assert body["error"]
    return dict(body)


# --- Reaching another device -------------------------------------------------


class TestAnotherDevice:
    async def test_mixed_proofs_reach_nobody(
        self, client: Client, store: Store, anna: Proof, bob: Proof
    ) -> None:
        mixed = [
            {"endpoint": anna["endpoint"], "auth": bob["auth"]},
            {"endpoint": bob["endpoint"], "auth": anna["auth"]},
        ]
        for proof in mixed:
            alone = await create(client, proof)
            with_also = await create(client, anna, also=[proof])

            assert alone.status == 403
            assert with_also.status == 403
            assert (await with_also.json())["field"] == "also.0.auth"
        assert store.reminders.all() == []

    async def test_an_unknown_also_and_a_wrong_also_secret_answer_alike(
        self, client: Client, push_service: PushServiceDouble, anna: Proof, bob: Proof
    ) -> None:
        unknown = proof_of(push_service.new_subscription())

        answers = [
            await create(client, anna, also=[wrong(bob)]),
            await create(client, anna, also=[unknown]),
        ]

        bodies = [await error_of(answer) for answer in answers]
        assert [answer.status for answer in answers] == [403, 403]
        assert bodies[0] == bodies[1]

    async def test_a_good_also_then_a_bad_one_stores_nothing(
        self, client: Client, store: Store, anna: Proof, bob: Proof
    ) -> None:
        answer = await create(client, anna, also=[bob, wrong(bob)])

        assert answer.status == 403
        assert (await answer.json())["field"] == "also.1.auth"
        assert store.reminders.all() == []

    @pytest.mark.parametrize(
        "spell",
        [
            lambda e: e + "/",
            lambda e: e.upper(),
            lambda e: e.replace("http://", "HTTP://"),
            lambda e: e.replace("/push/", "/%70ush/"),
            lambda e: e + "?",
            lambda e: e.replace("127.0.0.1", "127.0.0.1.", 1),
        ],
        ids=["trailing-slash", "upper", "scheme-case", "percent", "query", "dot"],
    )
    async def test_another_spelling_of_the_endpoint_is_not_the_device(
        self, client: Client, store: Store, anna: Proof, spell: Any
    ) -> None:
        respelled = anna | {"endpoint": spell(anna["endpoint"])}

        answer = await create(client, respelled)

        assert answer.status in (400, 403), await answer.text()
        assert store.reminders.all() == []

    async def test_rotated_keys_on_the_same_endpoint_keep_the_reminders(
        self,
        client: Client,
        push_service: PushServiceDouble,
        anna: Proof,
    ) -> None:
        kept = await created_id(client, anna)
        fresh = push_service.new_subscription()
        rotated = fresh.to_json() | {"endpoint": anna["endpoint"]}

        answer = await client.post(
            "/api/subscriptions", json=rotated | {"replaces": anna}
        )
        new_proof = {"endpoint": anna["endpoint"], "auth": rotated["keys"]["auth"]}

        assert answer.status == 200
        assert [r["id"] for r in await listing(client, new_proof)] == [kept]
        old_secret = await client.post("/api/self-reminders/list", json=anna)
        assert old_secret.status == 403

    async def test_a_replaced_subscription_lists_and_cancels_its_reminders(
        self,
        client: Client,
        store: Store,
        push_service: PushServiceDouble,
        anna: Proof,
    ) -> None:
        # The browser renews its subscription (pushsubscriptionchange, or the
        # page subscribing again) and says which one the new one replaces, as
        # web/sw.js and web/app.js do: the same visitor on the same browser.
        reminder = await created_id(client, anna)
        renewed = push_service.new_subscription()
        new_proof = await subscribed(client, renewed, replaces=anna)

        listed = [r["id"] for r in await listing(client, new_proof)]
        cancel = await client.delete(f"/api/self-reminders/{reminder}", json=new_proof)

        # The reminder follows the device, not the deleted row's id.
        assert (listed, cancel.status) == ([reminder], 200)
        assert store.reminders.get(reminder).status is ReminderStatus.CANCELLED

    async def test_a_replaced_subscription_gets_its_reminder(
        self,
        client: Client,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
        anna: Proof,
        send_due: Callable[[], Awaitable[None]],
    ) -> None:
        reminder = await created_id(client, anna, in_minutes=5)
        renewed = push_service.new_subscription()
        await subscribed(client, renewed, replaces=anna)

        clock.advance(minutes=5)
        await send_due()

        received = [p.endpoint for p in push_service.received]
        status = store.reminders.get(reminder).status
        assert (received, status) == ([renewed.endpoint], ReminderStatus.SENT)

    async def test_a_device_removed_and_subscribed_again_does_not_inherit(
        self,
        client: Client,
        store: Store,
        anna_browser: BrowserSubscription,
        anna: Proof,
    ) -> None:
        old = await created_id(client, anna)
        removed = await client.delete("/api/subscriptions", json=anna)
        assert removed.status == 200
        await subscribed(client, anna_browser)

        cancel = await client.delete(f"/api/self-reminders/{old}", json=anna)

        # Ids are never reused, so the row subscribed again is another device.
        assert await listing(client, anna) == []
        assert cancel.status == 403
        assert (await cancel.json())["field"] == "id"

    async def test_removing_the_device_cancels_its_reminders_that_reach_nobody(
        self,
        client: Client,
        services: Services,
        store: Store,
        anna_browser: BrowserSubscription,
        anna: Proof,
    ) -> None:
        # A script needs no browser: an endpoint on a push service's host and
        # keys of its own make a device. Unsubscribing and subscribing again
        # gives a new id, and with it a fresh allowance of waiting reminders,
        # while the old ones stay scheduled (for 7 days) to go to no device.
        allow_many_requests(services)
        change_settings(services, visitor_pending_per_device=2)
        for _ in range(3):
            for _ in range(2):
                await created_id(client, anna)
            assert (await client.delete("/api/subscriptions", json=anna)).status == 200
            await subscribed(client, anna_browser)

        waiting = [
            r.id for r in store.reminders.all() if r.status is ReminderStatus.SCHEDULED
        ]
        # A removed device's reminders can reach no one (ids are never
        # reused): they are cancelled with it.
        assert waiting == []


# --- Ids and paths ------------------------------------------------------------


class TestIdsAndPaths:
    async def test_another_devices_id_and_a_missing_id_answer_alike(
        self, client: Client, store: Store, anna: Proof, bob: Proof
    ) -> None:
        bobs = await created_id(client, bob)

        answers = [
            await client.delete(f"/api/self-reminders/{bobs}", json=anna),
            await client.delete(f"/api/self-reminders/{bobs + 1000}", json=anna),
            await client.delete(f"/api/self-reminders/{2**63 - 1}", json=anna),
        ]

        bodies = [await error_of(answer) for answer in answers]
        assert [answer.status for answer in answers] == [403, 403, 403]
        assert bodies[0] == bodies[1] == bodies[2]
        assert store.reminders.get(bobs).status is ReminderStatus.SCHEDULED

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("/api/self-reminders/{id}/", 404),
            ("/api/self-reminders/{id}/x", 404),
            ("/api/self-reminders/%3{last}", 200),
            ("/api/self-reminders/{id}?x", 200),
            ("/api/self-reminders/0{id}", 200),
            ("/api/self-reminders/+{id}", 400),
            ("/api/self-reminders/{id}%00", 400),
            ("/api/self-reminders/{id}%2F", 400),
            ("/api/self-reminders/%EF%BC%91", 400),
            ("/api/self-reminders/{id}.0", 400),
            ("/api/self-reminders/ {id}", 400),
            ("/api/self-reminders/list", 400),
            ("/api/self-reminders//{id}", 404),
            ("/api//self-reminders/{id}", 404),
        ],
    )
    async def test_path_tricks_on_cancel(
        self, client: Client, anna: Proof, path: str, status: int
    ) -> None:
        own = await created_id(client, anna)
        assert own < 10
        url = path.format(id=own, last=own)

        answer = await client.delete(url, json=anna)

        assert answer.status == status, (url, await answer.text())
        if status != 200:
            await error_of(answer)

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/self-reminders"),
            ("PUT", "/api/self-reminders"),
            ("PATCH", "/api/self-reminders"),
            ("DELETE", "/api/self-reminders"),
            ("HEAD", "/api/self-reminders"),
            ("OPTIONS", "/api/self-reminders"),
            ("GET", "/api/self-reminders/list"),
            ("PUT", "/api/self-reminders/list"),
            ("GET", "/api/self-reminders/1"),
            ("POST", "/api/self-reminders/1"),
            ("PUT", "/api/self-reminders/1"),
            ("PATCH", "/api/self-reminders/1"),
        ],
    )
    async def test_methods_the_routes_do_not_take(
        self, client: Client, store: Store, anna: Proof, method: str, path: str
    ) -> None:
        body = anna | {"message": "x", "in_minutes": 5}

        answer = await client.request(method, path, json=body)

        assert answer.status == 405, await answer.text()
        if method != "HEAD":
            await error_of(answer)
        assert answer.headers.get("Allow")
        assert store.reminders.all() == []


# --- Limits ---------------------------------------------------------------------


class TestLimits:
    async def test_concurrent_creates_do_not_pass_the_pending_limit(
        self, client: Client, services: Services, store: Store, anna: Proof
    ) -> None:
        allow_many_requests(services)
        change_settings(services, visitor_pending_per_device=3)

        answers = await asyncio.gather(*(create(client, anna) for _ in range(25)))

        statuses = sorted(answer.status for answer in answers)
        assert statuses == [201] * 3 + [403] * 22
        assert len(store.reminders.all()) == 3

    async def test_also_counts_towards_the_pending_limit_of_each_device(
        self,
        client: Client,
        services: Services,
        store: Store,
        anna: Proof,
        bob: Proof,
    ) -> None:
        allow_many_requests(services)
        change_settings(services, visitor_pending_per_device=2)
        for _ in range(2):
            await created_id(client, anna)
        for _ in range(2):
            await create(client, bob, also=[anna])

        anna_id = device_id(store, anna)
        waiting_for_anna = [
            r
            for r in store.reminders.all()
            if anna_id in r.target.subscription_ids
            and r.status is ReminderStatus.SCHEDULED
        ]
        assert len(waiting_for_anna) <= 2

    @pytest.mark.parametrize(
        "path",
        [
            "/api/self-reminders/",
            "/api/self-reminders/list/",
            "/api/self-reminders%2Flist",
            "/api/self-reminders/%6Cist",
            "/api/self-reminders?list",
            "/api/./self-reminders",
            "/api/x/../self-reminders",
        ],
    )
    async def test_no_path_variant_escapes_the_rate_limit(
        self, client: Client, services: Services, store: Store, anna: Proof, path: str
    ) -> None:
        change_settings(services, visitor_requests_per_minute=2)
        await listing(client, anna)
        await listing(client, anna)

        answer = await client.post(path, json=anna | {"message": "x", "in_minutes": 5})

        assert answer.status in (404, 405, 429), (path, await answer.text())
        await error_of(answer)
        assert store.reminders.all() == []

    @pytest.mark.parametrize(
        ("message", "status"),
        [
            ("😀" * 200, 201),
            ("😀" * 201, 400),
            ("👩‍💻" * 66, 201),  # 3 code points each
            ("e\u0301" * 100, 201),
            ("שלום " * 40, 201),
            ("\ud800", 400),
            ("a\u0000b", 400),
            ("a\u2028b\u2029c", 201),
            ("\u00a0\u3000 ", 400),
            ('"\\' * 100, 201),
        ],
        ids=[
            "emoji-200",
            "emoji-201",
            "zwj-emoji",
            "combining",
            "rtl",
            "lone-surrogate",
            "nul",
            "line-separators",
            "unicode-spaces",
            "escapes",
        ],
    )
    async def test_odd_messages_at_the_limits(
        self, client: Client, anna: Proof, message: str, status: int
    ) -> None:
        answer = await create(client, anna, message=message)

        assert answer.status == status, await answer.text()
        if status == 400:
            assert (await error_of(answer))["field"] == "message"

    async def test_the_longest_message_of_the_widest_characters_fits_one_push(
        self, client: Client, services: Services, anna: Proof
    ) -> None:
        allow_many_requests(services)
        change_settings(services, visitor_message_length=500)
        for message in ["😀" * 500, '"' * 500, "\\" * 500, "\n" * 250 + "x" * 250]:
            answer = await create(client, anna, message=message)
            assert answer.status == 201, await answer.text()
            await client.delete(
                f"/api/self-reminders/{(await answer.json())['reminder']['id']}",
                json=anna,
            )

    @pytest.mark.parametrize(
        "at",
        [
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2026-12-03T23:59:60Z",
            "2026-12-03T10:30:00+24:00",
            "2026-12-03T24:00:00Z",
            "2026-W49-4T10:30Z",
            "2026-12-03T10:30:00.1234567890123456789Z",
            "2026-12-03T10:30:00.12345678901234567890123456Z",
            "2026-12-03T10:30:00+23:59:59.999999",
            "+02026-12-03T10:30:00Z",
            "2026-12-03T10:30:00z",
            "2026-12-03t10:30:00Z",
            "２０２６-12-03T10:30:00Z",
            "",
            "Z",
            "2026-12-03T10:30:00\u0000Z",
        ],
    )
    async def test_odd_times_never_fail_the_server(
        self, client: Client, anna: Proof, at: str
    ) -> None:
        answer = await create(client, anna, in_minutes=None, at=at)

        assert answer.status in (201, 400), await answer.text()
        if answer.status == 400:
            assert (await error_of(answer))["field"] == "at"

    @pytest.mark.parametrize(
        ("offset", "status"),
        [
            (timedelta(seconds=29), 400),
            (timedelta(seconds=30), 201),
            (timedelta(days=7), 201),
            (timedelta(days=7, microseconds=1), 400),
        ],
    )
    async def test_at_exactly_the_bounds(
        self,
        client: Client,
        clock: FakeClock,
        anna: Proof,
        offset: timedelta,
        status: int,
    ) -> None:
        at = (clock.now + offset).isoformat()

        answer = await create(client, anna, in_minutes=None, at=at)

        assert answer.status == status, (at, await answer.text())

    @pytest.mark.parametrize(("minutes", "status"), [(1, 201), (7 * 24 * 60, 201)])
    async def test_in_minutes_exactly_the_bounds(
        self, client: Client, anna: Proof, minutes: int, status: int
    ) -> None:
        answer = await create(client, anna, in_minutes=minutes)

        assert answer.status == status, await answer.text()

    async def test_the_pending_limit_of_one_is_not_worded_as_a_plural(
        self, client: Client, services: Services, anna: Proof
    ) -> None:
        change_settings(services, visitor_pending_per_device=1)
        await created_id(client, anna)

        refused = await create(client, anna)

        assert refused.status == 403
        assert "1 reminders" not in (await error_of(refused))["error"]


# --- Privacy of the live events -------------------------------------------------


class TestLiveEvents:
    async def test_a_sent_visitor_reminder_tells_its_page_no_text_and_others_nothing(
        self,
        client: Client,
        services: Services,
        store: Store,
        clock: FakeClock,
        anna: Proof,
        bob: Proof,
        send_due: Callable[[], Awaitable[None]],
    ) -> None:
        reminder = await created_id(client, anna, message="My PIN is 1234")
        async with live_page(client) as annas, live_page(client) as bobs:
            await identify(annas, anna)
            await identify(bobs, bob)
            clock.advance(minutes=15)
            await send_due()
            # Then the operator's reminder to everyone: the first bob hears.
            services.reminders.schedule("Kitchen", "Lunch", None, clock.now)
            await send_due()

            to_anna = [await next_message(annas) for _ in range(2)]
            to_bob = await next_message(bobs)

        assert to_anna[0] == {
            "type": "self_reminder_sent",
            "id": reminder,
            "device": device_id(store, anna),
        }
        assert to_anna[1]["body"] == to_bob["body"] == "Lunch"

    async def test_the_operator_editing_a_visitors_reminder_keeps_it_private(
        self,
        client: Client,
        services: Services,
        store: Store,
        clock: FakeClock,
        anna: Proof,
        send_due: Callable[[], Awaitable[None]],
    ) -> None:
        reminder = await created_id(client, anna)
        before = store.reminders.get(reminder)
        services.reminders.edit(
            reminder,
            "Reminder",
            "My PIN is 1234",
            None,
            clock.now + timedelta(minutes=2),
            target=before.target,
            ttl=before.ttl,
            urgency=before.urgency,
        )
        still_theirs = [r["message"] for r in await listing(client, anna)]
        async with live_page(client) as socket:
            await identify(socket, anna)
            clock.advance(minutes=2)
            await send_due()

            message = await next_message(socket)

        assert still_theirs == ["My PIN is 1234"]
        assert message["type"] == "self_reminder_sent"
        assert "PIN" not in str(message)


# --- Robustness ---------------------------------------------------------------


async def test_malformed_bodies_are_400_in_json_and_the_database_stays_intact(
    client: Client, services: Services, store: Store, anna: Proof
) -> None:
    allow_many_requests(services)
    bodies: list[Any] = [
        anna | {"message": "x" * 2001, "in_minutes": 5},
        anna | {"message": "x", "in_minutes": 5, "also": [anna] * 11},
        anna | {"message": "x", "in_minutes": 5, "also": [{"endpoint": 1}]},
        anna | {"message": "x", "in_minutes": True},
        anna | {"message": "x", "in_minutes": 5.0},
        anna | {"message": "x", "in_minutes": 10**30},
        anna | {"message": "x", "at": 5},
        [anna],
        "x",
        None,
    ]
    for body in bodies:
        answer = await client.post(
            "/api/self-reminders", data=json.dumps(body), headers=JSON
        )
        assert answer.status == 400, await answer.text()
        await error_of(answer)

    assert store.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert store.reminders.all() == []
