"""Send one encrypted push and say, as a typed Outcome, what became of it."""

import asyncio
from typing import Any

import aiohttp
from pywebpush import WebPushException, webpush_async

from pushdesk.domain import Delivered, Failed, Gone, Outcome, Subscription
from pushdesk.log import PUSH
from pushdesk.push.vapid import VapidKeys

DEFAULT_TTL_SECONDS = 24 * 60 * 60
DEFAULT_TIMEOUT_SECONDS = 10.0


class PushSender:
    """Encrypts (RFC 8291) and signs (RFC 8292) pushes over one shared session."""

    def __init__(
        self,
        keys: VapidKeys,
        subject: str,
        session: aiohttp.ClientSession,
        *,
        ttl: int = DEFAULT_TTL_SECONDS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._keys = keys
        self._subject = subject
        self._session = session
        self._ttl = ttl
        self._timeout = timeout

    async def send(self, subscription: Subscription, payload: bytes) -> Outcome:
        info: dict[str, Any] = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }

        # pywebpush writes aud and exp into the claims it is given, so each
        # call gets a fresh dict; otherwise one audience leaks into the next.
        claims: dict[str, str | int] = {"sub": self._subject}

        try:
            response = await webpush_async(
                info,
                data=payload,  # bytes are accepted as well as str
                vapid_private_key=self._keys.vapid,
                vapid_claims=claims,
                ttl=self._ttl,
                timeout=self._timeout,
                aiohttp_session=self._session,
            )
        except WebPushException as exc:
            return _rejected(subscription, exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = _describe(exc).replace(
                subscription.endpoint, subscription.short_endpoint
            )
            PUSH.warning("unable to reach %s: %s", subscription.short_endpoint, reason)
            return Failed(None, reason)
        except Exception as exc:
            # Bad keys in a stored subscription make the encryption layer raise
            # assorted errors; it is that device's failure, not the sender's.
            PUSH.warning(
                "unable to encrypt for %s: %s",
                subscription.short_endpoint,
                type(exc).__name__,
            )
            return Failed(None, f"cannot encrypt: {type(exc).__name__}")

        status = int(getattr(response, "status", 201))
        PUSH.debug("push to %s answered %d", subscription.short_endpoint, status)
        return Delivered(status)


def _rejected(subscription: Subscription, exc: WebPushException) -> Outcome:
    response = exc.response
    if response is None:
        # Raised before anything was sent: the stored keys are unusable.
        PUSH.warning(
            "unable to encrypt for %s: %s", subscription.short_endpoint, exc.message
        )
        return Failed(None, f"cannot encrypt: {exc.message}")

    status = getattr(response, "status", None)
    if status in (404, 410):
        PUSH.info("%s is gone (%s)", subscription.short_endpoint, status)
        return Gone(int(status))

    reason = getattr(response, "reason", None) or "rejected"
    PUSH.warning(
        "push to %s refused: %s %s", subscription.short_endpoint, status, reason
    )
    return Failed(status, f"{status} {reason}" if status else str(reason))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
