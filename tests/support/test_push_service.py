"""The push-service double must refuse what the real services refuse.

If the double were lenient, pushdesk's own tests would pass while real
browsers' push services reject its messages, so its strictness is tested with
the real sender library, pywebpush, plus hand-built requests for the faults
pywebpush itself never makes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException, webpush_async

from .push_service import BrowserSubscription, PushServiceDouble

MESSAGE: dict[str, Any] = {"title": "Stand-up", "body": "in 5 minutes", "id": 42}


def claims(**extra: str | int) -> dict[str, str | int]:
    # pywebpush writes aud and exp into the dict it is given, so every send
    # needs its own copy or one test's values leak into the next send.
    return {"sub": "mailto:ops@example.com", **extra}


def new_vapid(*, strict: bool = True) -> Any:
    # no-strict lets py_vapid sign claims it would itself refuse, so the
    # double's own checks can be exercised.
    vapid = Vapid02(conf={} if strict else {"no-strict": True})
    vapid.generate_keys()
    return vapid


def vapid_k(vapid: Any) -> str:
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def vapid_t(vapid: Any, aud: str) -> str:
    authorization: str = vapid.sign(claims(aud=aud, exp=int(time.time()) + 3600))[
        "Authorization"
    ]
    return authorization.split("t=", 1)[1].split(",", 1)[0]


async def send(
    session: aiohttp.ClientSession,
    subscription: BrowserSubscription | dict[str, Any],
    vapid: Any | None,
    vapid_claims: dict[str, str | int] | None = None,
    *,
    data: str = json.dumps(MESSAGE),
    headers: dict[str, str | int | float] | None = None,
) -> aiohttp.ClientResponse:
    info = (
        subscription.to_json()
        if isinstance(subscription, BrowserSubscription)
        else subscription
    )
    if vapid is not None and vapid_claims is None:
        vapid_claims = claims()
    response: aiohttp.ClientResponse = await webpush_async(
        info,
        data=data,
        vapid_private_key=vapid,
        vapid_claims=vapid_claims,
        ttl=60,
        timeout=10,
        headers=headers,
        aiohttp_session=session,
    )
    return response


async def refused_status(
    session: aiohttp.ClientSession,
    subscription: BrowserSubscription | dict[str, Any],
    vapid: Any | None,
    vapid_claims: dict[str, str | int] | None = None,
    *,
    headers: dict[str, str | int | float] | None = None,
) -> int:
    with pytest.raises(WebPushException) as caught:
        await send(session, subscription, vapid, vapid_claims, headers=headers)
    status: int = caught.value.response.status
    return status


@pytest_asyncio.fixture
async def push() -> AsyncIterator[PushServiceDouble]:
    async with PushServiceDouble() as double:
        yield double


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def vapid() -> Any:
    return new_vapid()


@pytest.mark.asyncio
async def test_subscription_json_matches_browser_shape(
    push: PushServiceDouble,
) -> None:
    sub = push.new_subscription()
    data = sub.to_json()

    assert set(data) == {"endpoint", "expirationTime", "keys"}
    assert data["endpoint"].startswith(f"{push.origin}/push/")
    assert data["expirationTime"] is None
    assert set(data["keys"]) == {"p256dh", "auth"}
    for value in data["keys"].values():
        assert "=" not in value
        assert "+" not in value
        assert "/" not in value
    p256dh = base64.urlsafe_b64decode(data["keys"]["p256dh"] + "=")
    assert len(p256dh) == 65
    assert p256dh[0] == 0x04
    assert base64.urlsafe_b64decode(data["keys"]["auth"] + "==") == sub.auth
    assert push.new_subscription().endpoint != sub.endpoint


@pytest.mark.asyncio
async def test_correct_push_is_decrypted_and_recorded(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()

    response = await send(
        session, sub, vapid, headers={"Urgency": "high", "Topic": "standup"}
    )

    assert response.status == 201
    assert response.headers["Location"].startswith(push.origin)
    [delivered] = await push.wait_for(1)
    assert delivered.json() == MESSAGE
    assert delivered.endpoint == sub.endpoint
    assert delivered.ttl == 60
    assert delivered.urgency == "high"
    assert delivered.topic == "standup"
    assert delivered.vapid_claims["aud"] == push.origin
    assert delivered.vapid_claims["sub"] == "mailto:ops@example.com"
    assert delivered.vapid_public_key == vapid_k(vapid)
    assert push.received_for(sub) == [delivered]
    assert push.received_for(push.new_subscription()) == []
    assert [a.status for a in push.attempts] == [201]
    assert push.problems == []


@pytest.mark.asyncio
async def test_signature_from_another_key_is_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()
    # Signed by one key but claiming another: only a verifying service notices.
    forged = f"vapid t={vapid_t(vapid, push.origin)}, k={vapid_k(new_vapid())}"

    status = await refused_status(session, sub, None, headers={"Authorization": forged})

    assert status == 403
    assert push.received == []
    assert any("signature" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_hand_built_valid_authorization_is_accepted(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    # The forged-key test above is only meaningful if the same hand-built
    # header, with the matching k, gets through.
    sub = push.new_subscription()
    honest = f"vapid t={vapid_t(vapid, push.origin)}, k={vapid_k(vapid)}"

    response = await send(session, sub, None, headers={"Authorization": honest})

    assert response.status == 201
    assert push.problems == []


@pytest.mark.asyncio
async def test_missing_authorization_is_refused_with_401(
    push: PushServiceDouble, session: aiohttp.ClientSession
) -> None:
    sub = push.new_subscription()

    assert await refused_status(session, sub, None) == 401
    assert push.received == []
    assert len(push.problems) == 1


@pytest.mark.asyncio
async def test_audience_of_another_origin_is_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()

    status = await refused_status(
        session, sub, vapid, claims(aud="https://fcm.googleapis.com")
    )

    assert status == 403
    assert any("aud" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_expiry_more_than_a_day_ahead_is_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()
    too_late = int(time.time()) + 25 * 60 * 60

    status = await refused_status(session, sub, vapid, claims(exp=too_late))

    assert status == 403
    assert any("exp" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_subject_that_is_not_a_uri_is_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession
) -> None:
    sub = push.new_subscription()
    lax = new_vapid(strict=False)

    status = await refused_status(session, sub, lax, {"sub": "ops@example.com"})

    assert status == 403
    assert any("sub" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_missing_ttl_is_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    # pywebpush always sends TTL, so this request is assembled by hand.
    sub = push.new_subscription()
    body = WebPusher(sub.to_json()).encode(json.dumps(MESSAGE).encode())["body"]
    authorization = vapid.sign(claims(aud=push.origin))["Authorization"]

    async with session.post(
        sub.endpoint,
        data=body,
        headers={"Authorization": authorization, "Content-Encoding": "aes128gcm"},
    ) as response:
        assert response.status == 400
        assert "TTL" in await response.text()

    assert push.received == []
    assert any("TTL" in problem for problem in push.problems)


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["aesgcm", "gzip"])
async def test_content_encoding_other_than_aes128gcm_is_refused(
    push: PushServiceDouble,
    session: aiohttp.ClientSession,
    vapid: Any,
    encoding: str,
) -> None:
    # gzip matters: an HTTP server that decompresses on its own would answer
    # 500 instead of the 415 a push service gives.
    sub = push.new_subscription()
    body = WebPusher(sub.to_json()).encode(json.dumps(MESSAGE).encode())["body"]
    authorization = vapid.sign(claims(aud=push.origin))["Authorization"]

    async with session.post(
        sub.endpoint,
        data=body,
        headers={
            "Authorization": authorization,
            "TTL": "60",
            "Content-Encoding": encoding,
        },
    ) as response:
        assert response.status == 415

    assert push.received == []
    assert any("Content-Encoding" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_invalid_urgency_and_topic_are_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()

    status = await refused_status(
        session, sub, vapid, headers={"Urgency": "urgent", "Topic": "x" * 33}
    )

    assert status == 400
    assert any("Urgency" in problem for problem in push.problems)
    assert any("Topic" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_payload_over_4096_bytes_is_refused(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()

    with pytest.raises(WebPushException) as caught:
        await send(session, sub, vapid, data="x" * 4096)

    assert caught.value.response.status == 413


@pytest.mark.asyncio
async def test_payload_for_another_subscriptions_keys_does_not_decrypt(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    target = push.new_subscription()
    other = push.new_subscription()
    crossed = {"endpoint": target.endpoint, "keys": other.to_json()["keys"]}

    assert await refused_status(session, crossed, vapid) == 400
    assert push.received == []
    assert any("decrypt" in problem for problem in push.problems)


@pytest.mark.asyncio
async def test_scripted_gone_makes_pywebpush_raise_410(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()
    push.respond_with(sub, 410)

    assert await refused_status(session, sub, vapid) == 410
    assert await refused_status(session, sub, vapid) == 410
    assert push.received == []
    assert [a.status for a in push.attempts] == [410, 410]
    assert push.problems == []


@pytest.mark.asyncio
async def test_scripted_answer_still_checks_vapid_first(
    push: PushServiceDouble, session: aiohttp.ClientSession
) -> None:
    sub = push.new_subscription()
    push.respond_with(sub, 410)

    assert await refused_status(session, sub, None) == 401


@pytest.mark.asyncio
async def test_scripted_answer_for_limited_times_then_delivers(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()
    push.respond_with(sub.endpoint, 429, times=1, headers={"Retry-After": "30"})

    with pytest.raises(WebPushException) as caught:
        await send(session, sub, vapid)
    assert caught.value.response.status == 429
    assert caught.value.retry_after == "30"

    response = await send(session, sub, vapid)
    assert response.status == 201
    assert [a.status for a in push.attempts] == [429, 201]
    assert [a.delivered for a in push.attempts] == [False, True]
    assert len(push.received) == 1


@pytest.mark.asyncio
async def test_unknown_and_forgotten_endpoints_give_404(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()
    never_issued = {**sub.to_json(), "endpoint": f"{push.origin}/push/nobody"}

    assert await refused_status(session, never_issued, vapid) == 404
    assert len(push.problems) == 1

    push.forget(sub)
    assert await refused_status(session, sub, vapid) == 404
    # An unsubscribed browser is an expected situation, not a sender bug.
    assert len(push.problems) == 1


@pytest.mark.asyncio
async def test_wait_for_times_out_listing_problems(
    push: PushServiceDouble, session: aiohttp.ClientSession
) -> None:
    sub = push.new_subscription()
    await refused_status(session, sub, None)

    with pytest.raises(TimeoutError, match="Authorization"):
        await push.wait_for(1, timeout=0.2)


@pytest.mark.asyncio
async def test_wait_for_wakes_when_a_push_arrives(
    push: PushServiceDouble, session: aiohttp.ClientSession, vapid: Any
) -> None:
    sub = push.new_subscription()
    waiter = asyncio.ensure_future(push.wait_for(2, timeout=5))

    await send(session, sub, vapid)
    assert not waiter.done()
    await send(session, sub, vapid)

    assert len(await waiter) == 2
