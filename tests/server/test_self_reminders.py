"""Issue 8: a visitor sets reminders for their own device from the page.

Against the real server on a loopback port: the device is known by its
endpoint and auth secret alone, and nothing a visitor sends reaches another
device, another device's reminders or the operator's.
"""

import base64
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from pushdesk.domain import ReminderStatus, Target, Urgency
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble
from tests.support.settings import change_settings
from tests.support.visitors import Client, Proof, device_id, proof_of, wrong


async def create(client: Client, proof: Proof, **fields: Any) -> Any:
    """Sent as given: a field set to None goes as JSON null."""
    body = proof | {"message": "Check the oven", "in_minutes": 15} | fields
    return await client.post("/api/self-reminders", json=body)


async def listing(client: Client, proof: Proof) -> Any:
    answer = await client.post("/api/self-reminders/list", json=proof)
    assert answer.status == 200, await answer.text()
    return await answer.json()


class TestCreating:
    async def test_a_reminder_goes_to_this_device_alone(
        self, client: Client, store: Store, clock: FakeClock, anna: Proof, bob: Proof
    ) -> None:
        answer = await create(client, anna, message="  Check the oven ")

        assert answer.status == 201
        body = await answer.json()
        assert body == {
            "reminder": {
                "id": body["reminder"]["id"],
                "message": "Check the oven",
                "due_at": "2026-12-03T09:15:00Z",
                "status": "scheduled",
            }
        }
        [stored] = store.reminders.all()
        assert stored.visitor_device == device_id(store, anna)
        assert stored.target == Target(subscription_ids=(device_id(store, anna),))
        assert stored.due_at == clock.now + timedelta(minutes=15)
        assert stored.title == "Reminder"
        assert stored.urgency is Urgency.HIGH
        assert stored.url is None

    @pytest.mark.parametrize(
        ("at", "due"),
        [
            ("2026-12-03T10:30:00Z", "2026-12-03T10:30:00Z"),
            ("2026-12-03T10:30:00.250Z", "2026-12-03T10:30:00Z"),
            ("2026-12-03T11:30:00+01:00", "2026-12-03T10:30:00Z"),
        ],
        ids=["utc", "milliseconds", "offset"],
    )
    async def test_at_a_time_with_its_zone(
        self, client: Client, anna: Proof, at: str, due: str
    ) -> None:
        answer = await create(client, anna, in_minutes=None, at=at)

        assert answer.status == 201
        assert (await answer.json())["reminder"]["due_at"] == due

    async def test_other_devices_of_the_visitor_need_their_own_secret(
        self, client: Client, store: Store, anna: Proof, bob: Proof
    ) -> None:
        refused = await create(client, anna, also=[wrong(bob)])
        taken = await create(client, anna, also=[bob, anna])

        assert refused.status == 403
        assert (await refused.json())["field"] == "also.0.auth"
        assert taken.status == 201
        [stored] = store.reminders.all()
        assert stored.target.subscription_ids == (
            device_id(store, anna),
            device_id(store, bob),
        )
        assert stored.visitor_device == device_id(store, anna)

    async def test_a_secret_in_standard_base64_with_padding_is_the_same_secret(
        self, client: Client, anna: Proof
    ) -> None:
        raw = base64.urlsafe_b64decode(anna["auth"] + "==")
        standard = base64.b64encode(raw).decode()

        answer = await create(client, anna | {"auth": standard})

        assert answer.status == 201


class TestWhoIsAsking:
    @pytest.mark.parametrize("route", ["create", "list"])
    async def test_a_wrong_secret_or_an_unknown_endpoint_is_403_and_changes_nothing(
        self,
        client: Client,
        store: Store,
        push_service: PushServiceDouble,
        anna: Proof,
        route: str,
    ) -> None:
        unknown = push_service.new_subscription().to_json()
        strangers = [
            wrong(anna),
            {"endpoint": unknown["endpoint"], "auth": unknown["keys"]["auth"]},
        ]

        for proof in strangers:
            if route == "create":
                answer = await create(client, proof)
            else:
                answer = await client.post("/api/self-reminders/list", json=proof)

            assert answer.status == 403
            body = await answer.json()
            assert body["field"] == "auth"
            assert "not subscribed here" in body["error"]
        assert store.reminders.all() == []

    async def test_another_devices_reminder_cannot_be_cancelled(
        self, client: Client, store: Store, anna: Proof, bob: Proof
    ) -> None:
        annas = (await (await create(client, anna)).json())["reminder"]["id"]

        by_bob = await client.delete(f"/api/self-reminders/{annas}", json=bob)
        by_stranger = await client.delete(
            f"/api/self-reminders/{annas}", json=wrong(anna)
        )

        assert by_bob.status == 403
        assert (await by_bob.json())["field"] == "id"
        assert by_stranger.status == 403
        assert (await by_stranger.json())["field"] == "auth"
        assert store.reminders.get(annas).status is ReminderStatus.SCHEDULED
        assert [r["id"] for r in (await listing(client, anna))["reminders"]] == [annas]
        assert (await listing(client, bob))["reminders"] == []

    async def test_the_operators_reminders_and_missing_ones_look_the_same(
        self,
        client: Client,
        services: Services,
        clock: FakeClock,
        anna: Proof,
    ) -> None:
        operators = services.reminders.schedule("Stand-up", "Big room", None, clock.now)

        answers = [
            await client.delete(f"/api/self-reminders/{operators.id}", json=anna),
            await client.delete("/api/self-reminders/424242", json=anna),
        ]

        bodies = [await answer.json() for answer in answers]
        assert [answer.status for answer in answers] == [403, 403]
        assert bodies[0] == bodies[1]
        assert services.reminders.get(operators.id).status is ReminderStatus.SCHEDULED

    @pytest.mark.parametrize(
        "id_text", ["abc", "0", "-1", "1.5", "99999999999999999999"]
    )
    async def test_an_id_that_is_not_one_is_400(
        self, client: Client, anna: Proof, id_text: str
    ) -> None:
        answer = await client.delete(f"/api/self-reminders/{id_text}", json=anna)

        assert answer.status == 400
        assert (await answer.json())["field"] == "id"


class TestOwnList:
    async def test_lists_this_devices_waiting_reminders_soonest_first(
        self,
        client: Client,
        services: Services,
        clock: FakeClock,
        anna: Proof,
        bob: Proof,
    ) -> None:
        later = (await (await create(client, anna, in_minutes=60)).json())["reminder"]
        sooner = (await (await create(client, anna, in_minutes=5)).json())["reminder"]
        await create(client, bob, message="Bob's")
        services.reminders.schedule("Stand-up", "Big room", None, clock.now)

        body = await listing(client, anna)

        assert body["reminders"] == [sooner, later]
        assert body["limits"] == {
            "max_message_length": 200,
            "min_delay_minutes": 1,
            "max_delay_minutes": 7 * 24 * 60,
            "max_pending": 10,
        }

    async def test_cancelling_takes_it_off_the_list_and_it_is_not_sent(
        self, client: Client, services: Services, anna: Proof
    ) -> None:
        reminder = (await (await create(client, anna)).json())["reminder"]

        answer = await client.delete(f"/api/self-reminders/{reminder['id']}", json=anna)
        again = await client.delete(f"/api/self-reminders/{reminder['id']}", json=anna)

        assert answer.status == 200
        assert await answer.json() == {"cancelled": reminder["id"]}
        assert services.reminders.get(reminder["id"]).status is ReminderStatus.CANCELLED
        assert (await listing(client, anna))["reminders"] == []
        assert again.status == 400  # cancelled already: said in a sentence
        assert "cancelled" in (await again.json())["error"]

    async def test_the_operator_cancelling_takes_it_off_the_list(
        self, client: Client, services: Services, anna: Proof
    ) -> None:
        reminder = (await (await create(client, anna)).json())["reminder"]

        services.reminders.cancel(reminder["id"])

        assert (await listing(client, anna))["reminders"] == []


class TestTheDeviceGoes:
    async def test_its_reminders_that_reach_nobody_now_are_cancelled(
        self, client: Client, store: Store, anna: Proof, bob: Proof
    ) -> None:
        alone = (await (await create(client, anna)).json())["reminder"]["id"]
        shared = (await (await create(client, anna, also=[bob])).json())["reminder"]

        removed = await client.delete("/api/subscriptions", json=anna)

        assert removed.status == 200
        assert store.reminders.get(alone).status is ReminderStatus.CANCELLED
        # Bob's device still gets the one Anna shared with it.
        assert store.reminders.get(shared["id"]).status is ReminderStatus.SCHEDULED

    async def test_a_renewed_subscription_takes_its_reminders_along(
        self,
        client: Client,
        store: Store,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
        anna: Proof,
    ) -> None:
        own = (await (await create(client, anna)).json())["reminder"]
        operators = services.reminders.schedule(
            "Tea",
            "Kettle",
            None,
            clock.now + timedelta(hours=1),
            target=Target(subscription_ids=(device_id(store, anna),)),
        )
        renewed = push_service.new_subscription()
        answer = await client.post(
            "/api/subscriptions", json=renewed.to_json() | {"replaces": anna}
        )
        new_proof = proof_of(renewed)

        assert answer.status == 201
        new_id = device_id(store, new_proof)
        assert [r["id"] for r in (await listing(client, new_proof))["reminders"]] == [
            own["id"]
        ]
        assert store.reminders.get(own["id"]).target.subscription_ids == (new_id,)
        assert store.reminders.get(operators.id).target.subscription_ids == (new_id,)


class TestLimits:
    async def test_turned_off_every_route_refuses_and_nothing_is_stored(
        self, client: Client, services: Services, store: Store, anna: Proof
    ) -> None:
        kept = (await (await create(client, anna)).json())["reminder"]
        change_settings(services, visitor_reminders=False)

        answers = [
            await create(client, anna),
            await client.post("/api/self-reminders/list", json=anna),
            await client.delete(f"/api/self-reminders/{kept['id']}", json=anna),
        ]

        for answer in answers:
            assert answer.status == 403
            assert await answer.json() == {
                "error": "Reminders from the page are turned off here.",
                "field": None,
            }
        # Those already set stay, for the operator to send or cancel.
        assert [r.id for r in store.reminders.all()] == [kept["id"]]
        assert store.reminders.get(kept["id"]).status is ReminderStatus.SCHEDULED

    async def test_no_more_waiting_per_device_than_allowed(
        self, client: Client, services: Services, anna: Proof, bob: Proof
    ) -> None:
        change_settings(services, visitor_pending_per_device=2)
        first = await create(client, anna)
        await create(client, anna)

        third = await create(client, anna)
        bobs = await create(client, bob)
        await client.delete(
            f"/api/self-reminders/{(await first.json())['reminder']['id']}", json=anna
        )
        after_cancel = await create(client, anna)

        assert third.status == 403
        assert (
            "as many reminders waiting as allowed (2)" in (await third.json())["error"]
        )
        assert bobs.status == 201
        assert after_cancel.status == 201

    @pytest.mark.parametrize(
        ("fields", "field", "words"),
        [
            ({"in_minutes": 0}, "in_minutes", "must be greater than 0"),
            ({"in_minutes": 7 * 24 * 60 + 1}, "in_minutes", "at most 7 days away"),
            (
                {"in_minutes": None, "at": "2026-12-03T09:00:20Z"},
                "at",
                "at least 1 minute away",
            ),
            ({"in_minutes": None, "at": "2026-12-03T08:00:00Z"}, "at", "at least"),
            ({"in_minutes": None, "at": "2026-12-03T10:00:00"}, "at", "time zone"),
            ({"in_minutes": None, "at": "tomorrow"}, "at", "ISO 8601"),
            ({"at": "2026-12-03T10:00:00Z"}, "in_minutes", "not both"),
            ({"in_minutes": None}, "in_minutes", "either"),
            ({"message": "   "}, "message", "empty"),
            ({"message": "x" * 201}, "message", "longer than 200"),
            ({"message": "bell\x07"}, "message", "not text"),
            ({"message": "\u200b\ufeff"}, "message", "empty"),
            ({"message": "pay \u202eevil"}, "message", "reverse its direction"),
            ({"message": 5}, "message", "must be a string"),
            ({"in_minutes": "5"}, "in_minutes", "whole number"),
            ({"colour": "red"}, "colour", "not a field"),
        ],
    )
    async def test_bad_input_is_400_naming_the_field(
        self,
        client: Client,
        store: Store,
        anna: Proof,
        fields: dict[str, Any],
        field: str,
        words: str,
    ) -> None:
        answer = await create(client, anna, **fields)

        assert answer.status == 400
        body = await answer.json()
        assert body["field"] == field
        assert words in body["error"]
        assert store.reminders.all() == []

    async def test_the_operators_limits_apply_at_once(
        self, client: Client, services: Services, anna: Proof
    ) -> None:
        services.settings.save(
            replace(
                services.settings.current(),
                visitor_min_delay_minutes=10,
                visitor_max_delay_days=1,
                visitor_message_length=20,
            )
        )

        too_soon = await create(client, anna, in_minutes=5)
        too_late = await create(client, anna, in_minutes=25 * 60)
        too_long = await create(client, anna, message="x" * 21)
        fine = await create(client, anna, in_minutes=10, message="x" * 20)

        assert [a.status for a in (too_soon, too_late, too_long, fine)] == [
            400,
            400,
            400,
            201,
        ]
        assert "at least 10 minutes" in (await too_soon.json())["error"]
        assert "at most 1 day away" in (await too_late.json())["error"]

    async def test_requests_per_address_are_limited_with_retry_after(
        self, client: Client, services: Services, clock: FakeClock, anna: Proof
    ) -> None:
        change_settings(services, visitor_requests_per_minute=3)
        # The three routes share one count.
        await create(client, anna)
        await client.post("/api/self-reminders/list", json=anna)
        await client.delete("/api/self-reminders/1", json=anna)

        refused = await create(client, anna)
        clock.advance(minutes=1)
        later = await create(client, anna)

        assert refused.status == 429
        assert int(refused.headers["Retry-After"]) == 60
        assert (await refused.json())["error"].startswith("Too many reminder requests")
        assert later.status == 201
