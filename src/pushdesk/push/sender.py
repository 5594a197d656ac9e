"""Send one encrypted push and say, as a typed Outcome, what became of it.

Encryption is pywebpush's (RFC 8291); the VAPID token (RFC 8292) is signed once
per push-service origin; the request goes over the one shared aiohttp session.
Every answer a push service can give is classified here and nowhere else.
An endpoint the guard refuses (an internal address, not a push service) is
never posted to: it fails for good, like a push service's final no.
"""

import asyncio
from concurrent.futures import Executor
from datetime import datetime
from email.utils import parsedate_to_datetime

import aiohttp

from pushdesk.clock import Clock
from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Failed,
    Gone,
    Outcome,
    Rejected,
    RetryLater,
    Subscription,
    Urgency,
)
from pushdesk.log import PUSH
from pushdesk.push.encryption import encrypt, encrypt_many
from pushdesk.push.guard import EndpointGuard, InternalAddress
from pushdesk.push.vapid import VapidKeys, VapidSigner

DEFAULT_TIMEOUT_SECONDS = 10.0

# A push service asking for more than a day is treated as asking for a day:
# a reminder older than that is rarely still worth sending anyway.
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60.0


class PushSender:
    def __init__(
        self,
        keys: VapidKeys,
        subject: str,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        guard: EndpointGuard,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        executor: Executor | None = None,
    ) -> None:
        """``guard`` checks each endpoint before it is posted to; the session's
        connector should resolve through its GuardedResolver, so that a name
        is checked for the addresses it resolves to as well.

        ``executor`` (a process pool) takes the encryption off the event
        loop's thread and onto another core; without it, it runs inline.
        """
        self._executor = executor
        self._guard = guard
        self._signer = VapidSigner(keys, subject, clock)
        self._session = session
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(
        self,
        subscription: Subscription,
        payload: bytes,
        *,
        ttl: int,
        urgency: Urgency = Urgency.NORMAL,
        topic: str | None = None,
    ) -> Outcome:
        """Encrypt here and post; see ``post`` for sending a ready body."""
        try:
            body = encrypt(
                subscription.endpoint, subscription.p256dh, subscription.auth, payload
            )
        except Exception as exc:  # unusable stored keys: that device's failure only
            return _unencryptable(subscription, f"cannot encrypt: {type(exc).__name__}")
        return await self.post(
            subscription, body, ttl=ttl, urgency=urgency, topic=topic
        )

    async def encrypt_all(
        self, items: list[tuple[Subscription, bytes]]
    ) -> list[bytes | str]:
        """Encrypt each payload for its subscription; an error is its text."""
        work = [(s.endpoint, s.p256dh, s.auth, payload) for s, payload in items]
        if self._executor is None:
            return encrypt_many(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, encrypt_many, work)

    async def post(
        self,
        subscription: Subscription,
        body: bytes | str,
        *,
        ttl: int,
        urgency: Urgency = Urgency.NORMAL,
        topic: str | None = None,
    ) -> Outcome:
        """Post an encrypted body (or report the error text encryption gave)."""
        if isinstance(body, str):
            return _unencryptable(subscription, body)
        refusal = self._guard.refusal(subscription.endpoint)
        if refusal is not None:
            return _refused(subscription, refusal)

        headers = {
            "Authorization": self._signer.authorization(subscription.origin),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": urgency.value,
        }
        if topic:
            headers["Topic"] = topic

        try:
            # A redirect could lead anywhere, IP literals included, which the
            # resolver never sees; push services do not redirect (RFC 8030).
            async with self._session.post(
                subscription.endpoint,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                await response.read()
                return self._classify(subscription, response)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            internal = _internal_address(exc)
            if internal is not None:
                return _refused(subscription, str(internal))
            reason = _describe(exc).replace(
                subscription.endpoint, subscription.short_endpoint
            )
            PUSH.debug("unable to reach %s: %s", subscription.short_endpoint, reason)
            return RetryLater(None, reason)

    def _classify(
        self, subscription: Subscription, response: aiohttp.ClientResponse
    ) -> Outcome:
        status = response.status
        reason = f"{status} {response.reason or ''}".strip()
        if status in (200, 201, 202):
            return Delivered(status)
        if status in (404, 410):
            PUSH.info("%s is gone (%d)", subscription.short_endpoint, status)
            return Gone(status)
        if status in (401, 403):
            return CredentialsRefused(status, reason)
        if status == 429 or status >= 500:
            after = retry_after(response.headers.get("Retry-After"), self._clock())
            return RetryLater(status, reason, after)
        PUSH.warning("push to %s refused: %s", subscription.short_endpoint, reason)
        return Rejected(status, reason)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return min(max((moment - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def _unencryptable(subscription: Subscription, error: str) -> Outcome:
    PUSH.warning("unable to encrypt for %s: %s", subscription.short_endpoint, error)
    return Failed(None, error)


def _refused(subscription: Subscription, reason: str) -> Outcome:
    PUSH.warning("not pushing to %s: %s", subscription.short_endpoint, reason)
    return Failed(None, reason)


def _internal_address(exc: BaseException) -> InternalAddress | None:
    """The guard's refusal behind a failed connection, if that is what it was."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, InternalAddress):
            return cause
        cause = cause.__cause__
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
