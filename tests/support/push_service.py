"""A loopback Web Push service that is as strict as the browsers' real ones.

The real push services (FCM, Mozilla autopush, Apple, WNS) are unreachable from
the test machines, so a sender bug that one of them would refuse could slip
through unnoticed.  ``PushServiceDouble`` runs a real HTTP server on 127.0.0.1
and applies the checks a real service applies before it accepts a message:
VAPID (RFC 8292), the ``TTL``/``Urgency``/``Topic`` headers (RFC 8030), the
payload size limit and ``aes128gcm`` encryption (RFC 8188 / RFC 8291).  It
additionally decrypts every payload with the browser-side keys, which a real
service cannot do, so tests can see exactly what the browser would receive.

Typical use::

    async with PushServiceDouble() as push:
        sub = push.new_subscription()
        ...  # hand sub.to_json() to the code under test, make it send
        [delivered] = await push.wait_for(1)
        assert delivered.json() == {...}
        assert push.problems == []
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_VAPID_LIFETIME_SECONDS",
    "BrowserSubscription",
    "PushAttempt",
    "PushServiceDouble",
    "ReceivedPush",
]

# RFC 8030 only promises 4096 bytes of (encrypted) body; larger bodies are
# refused by FCM and autopush alike, so a sender must never rely on more.
MAX_PAYLOAD_BYTES: Final = 4096
# RFC 8292 section 2: push services reject tokens that expire later than this.
MAX_VAPID_LIFETIME_SECONDS: Final = 24 * 60 * 60

URGENCIES: Final = frozenset({"very-low", "low", "normal", "high"})

_PUSH_PATH: Final = "/push/"
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_TOPIC_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")
_TTL_RE: Final = re.compile(r"[0-9]+")


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing what a strict service refuses.

    ``base64.urlsafe_b64decode`` silently skips foreign characters and needs
    padding; JWT segments and VAPID keys are defined as unpadded base64url, so
    padding or standard-alphabet characters are sender bugs worth catching.
    """
    if not _B64URL_RE.fullmatch(text):
        raise ValueError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not unpadded base64url") from exc


@dataclass(frozen=True)
class BrowserSubscription:
    """What ``PushManager.subscribe()`` creates in a browser.

    The private key and auth secret never leave a real browser; the double keeps
    them so that it can decrypt what it receives for this subscription.
    """

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_key: bytes
    auth: bytes = field(repr=False)

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        """Return exactly what ``PushSubscription.toJSON()`` gives in a browser."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": _b64url_encode(self.public_key),
                "auth": _b64url_encode(self.auth),
            },
        }


@dataclass(frozen=True)
class ReceivedPush:
    """A message the double accepted (201) and decrypted."""

    endpoint: str
    token: str
    plaintext: bytes
    ttl: int
    urgency: str | None
    topic: str | None
    vapid_claims: dict[str, Any]
    vapid_public_key: str
    received_at: datetime

    def json(self) -> Any:
        return json.loads(self.plaintext)


@dataclass(frozen=True)
class PushAttempt:
    """One request to a push endpoint, whatever the double answered."""

    endpoint: str
    token: str
    status: int
    reason: str
    at: datetime
    delivered: bool


@dataclass
class _Override:
    status: int
    remaining: int | None
    headers: dict[str, str]


@dataclass(frozen=True)
class _Refusal:
    status: int
    reason: str


@dataclass(frozen=True)
class _Vapid:
    claims: dict[str, Any]
    public_key: str


class _RefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PushServiceDouble:
    """A strict Web Push service on 127.0.0.1, for tests.

    Every refused request is answered with a 4xx status and a plain-text reason
    (which pywebpush puts into its exception message) and is also listed in
    ``problems``, so a test can assert ``push.problems == []`` at the end.
    """

    def __init__(
        self,
        *,
        check_every: int = 1,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``check_every`` > 1 fully checks (VAPID, decryption) only every n-th
        request and merely accepts the others: for benchmarks, where checking
        every message would make the double the bottleneck being measured.

        ``clock`` is the time VAPID expiry is checked against: pass the test's
        fake clock when pushdesk runs on one, as a real push service and
        pushdesk share the real time. Default: the real time.
        """
        self.check_every = check_every
        self._clock = clock
        self.accepted_unchecked = 0
        self._requests = 0
        self.received: list[ReceivedPush] = []
        self.attempts: list[PushAttempt] = []
        self.problems: list[str] = []
        self._subscriptions: dict[str, BrowserSubscription] = {}
        # Tokens handed out at some point; a request for one that was forgotten
        # is the expected "subscription gone" case, not a sender bug.
        self._issued: set[str] = set()
        self._overrides: dict[str, _Override] = {}
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._origin: str | None = None

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("PushServiceDouble is already running")
        app = web.Application()
        app.router.add_post(_PUSH_PATH + "{token}", self._handle_push)
        # aiohttp would otherwise gunzip a "Content-Encoding: gzip" body itself
        # and fail with a 500, hiding the 415 a real push service answers.
        runner = web.AppRunner(app, access_log=None, auto_decompress=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._origin = f"http://{host}:{port}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``, also the ``aud`` a VAPID JWT must carry."""
        if self._origin is None:
            raise RuntimeError("PushServiceDouble has not been started")
        return self._origin

    # -- subscriptions and scripted answers --------------------------------

    def new_subscription(self) -> BrowserSubscription:
        private_key = ec.generate_private_key(ec.SECP256R1())
        public_key = private_key.public_key().public_bytes(
            serialization.Encoding.X962,
            serialization.PublicFormat.UncompressedPoint,
        )
        token = secrets.token_urlsafe(24)
        subscription = BrowserSubscription(
            endpoint=f"{self.origin}{_PUSH_PATH}{token}",
            private_key=private_key,
            public_key=public_key,
            auth=secrets.token_bytes(16),
        )
        self._subscriptions[token] = subscription
        self._issued.add(token)
        return subscription

    def respond_with(
        self,
        subscription_or_endpoint: BrowserSubscription | str,
        status: int,
        *,
        times: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer ``status`` instead of delivering, for the next ``times`` requests.

        ``times=None`` keeps answering so until replaced.  VAPID is still checked
        first, because a real service authenticates before it looks any further;
        the requests are counted in ``attempts`` but not in ``received``.
        """
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for always")
        token = self._token_of(subscription_or_endpoint)
        self._overrides[token] = _Override(status, times, dict(headers or {}))

    def forget(self, subscription_or_endpoint: BrowserSubscription | str) -> None:
        """Make the endpoint unknown, as when the browser unsubscribed."""
        token = self._token_of(subscription_or_endpoint)
        self._subscriptions.pop(token, None)
        self._overrides.pop(token, None)

    # -- observations ------------------------------------------------------

    def received_for(
        self, subscription_or_endpoint: BrowserSubscription | str
    ) -> list[ReceivedPush]:
        token = self._token_of(subscription_or_endpoint)
        return [push for push in self.received if push.token == token]

    # The timeout parameter is the interface the tests were promised; wrapping
    # every call site in asyncio.timeout would only add noise there.
    async def wait_for(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[ReceivedPush]:
        """Wait until at least ``count`` pushes were delivered; return them all."""
        try:
            async with asyncio.timeout(timeout), self._arrived:
                await self._arrived.wait_for(lambda: len(self.received) >= count)
        except TimeoutError:
            problems = "\n".join(f"  - {p}" for p in self.problems) or "  (none)"
            raise TimeoutError(
                f"expected {count} push(es) within {timeout}s, "
                f"got {len(self.received)}; problems:\n{problems}"
            ) from None
        return list(self.received)

    # -- request handling --------------------------------------------------

    def _token_of(self, subscription_or_endpoint: BrowserSubscription | str) -> str:
        endpoint = (
            subscription_or_endpoint.endpoint
            if isinstance(subscription_or_endpoint, BrowserSubscription)
            else subscription_or_endpoint
        )
        prefix = self.origin + _PUSH_PATH
        token = endpoint.removeprefix(prefix)
        if token == endpoint or not token or "/" in token:
            raise ValueError(f"not an endpoint of this push service: {endpoint}")
        return token

    async def _handle_push(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        endpoint = f"{self.origin}{_PUSH_PATH}{token}"
        subscription = self._subscriptions.get(token)
        if subscription is None:
            reason = "no such subscription"
            if token not in self._issued:
                self.problems.append(f"POST {request.path}: 404 {reason}")
            return self._answer(endpoint, token, 404, reason)

        self._requests += 1
        if self.check_every > 1 and self._requests % self.check_every:
            body = await request.read()
            if len(body) > MAX_PAYLOAD_BYTES:
                return self._answer(endpoint, token, 413, "payload too large")
            self.accepted_unchecked += 1
            return self._answer(endpoint, token, 201, "created", delivered=True)

        try:
            vapid = self._check_vapid(request)
        except _RefusedError as refusal:
            self.problems.append(f"POST {request.path}: {refusal.status} {refusal}")
            return self._answer(endpoint, token, refusal.status, refusal.reason)

        override = self._overrides.get(token)
        if override is not None:
            if override.remaining is not None:
                override.remaining -= 1
                if override.remaining == 0:
                    del self._overrides[token]
            return self._answer(
                endpoint,
                token,
                override.status,
                "scripted answer",
                headers=override.headers,
            )

        body = await request.read()
        refusals, ttl, plaintext = self._check_message(request, body, subscription)
        # ttl and plaintext are always set when nothing was refused; testing
        # them as well lets the type checker see that.
        if refusals or ttl is None or plaintext is None:
            for fault in refusals:
                self.problems.append(
                    f"POST {request.path}: {fault.status} {fault.reason}"
                )
            # A real service stops at the first fault; the reason lists them all
            # so one failing test run shows everything that is wrong.
            reason = "; ".join(fault.reason for fault in refusals)
            return self._answer(endpoint, token, refusals[0].status, reason)

        self.received.append(
            ReceivedPush(
                endpoint=endpoint,
                token=token,
                plaintext=plaintext,
                ttl=ttl,
                urgency=request.headers.get("Urgency"),
                topic=request.headers.get("Topic"),
                vapid_claims=vapid.claims,
                vapid_public_key=vapid.public_key,
                received_at=datetime.now(UTC),
            )
        )
        async with self._arrived:
            self._arrived.notify_all()
        location = f"{self.origin}/message/{secrets.token_urlsafe(16)}"
        return self._answer(
            endpoint,
            token,
            201,
            "created",
            headers={"Location": location},
            delivered=True,
        )

    def _answer(
        self,
        endpoint: str,
        token: str,
        status: int,
        reason: str,
        *,
        headers: dict[str, str] | None = None,
        delivered: bool = False,
    ) -> web.Response:
        self.attempts.append(
            PushAttempt(
                endpoint=endpoint,
                token=token,
                status=status,
                reason=reason,
                at=datetime.now(UTC),
                delivered=delivered,
            )
        )
        return web.Response(status=status, text=reason, headers=headers)

    def _check_vapid(self, request: web.Request) -> _Vapid:
        header = request.headers.get("Authorization")
        if header is None:
            raise _RefusedError(401, "missing Authorization header (VAPID required)")
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "vapid":
            raise _RefusedError(401, f"Authorization scheme {scheme!r} is not 'vapid'")
        params: dict[str, str] = {}
        for part in rest.split(","):
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or not name:
                raise _RefusedError(401, f"malformed Authorization parameter {part!r}")
            if name in params:
                raise _RefusedError(401, f"duplicate Authorization parameter {name!r}")
            # RFC 7235 auth-params may be quoted strings.
            params[name] = value.strip().strip('"')
        if "t" not in params or "k" not in params:
            raise _RefusedError(401, "Authorization must carry both t= and k=")
        token, key_text = params["t"], params["k"]

        try:
            key_raw = _b64url_decode(key_text)
            if len(key_raw) != 65 or key_raw[0] != 0x04:
                raise ValueError("not an uncompressed point")
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), key_raw
            )
        except ValueError as exc:
            raise _RefusedError(
                403, f"VAPID k is not an uncompressed P-256 key: {exc}"
            ) from None

        segments = token.split(".")
        if len(segments) != 3:
            raise _RefusedError(403, "VAPID t is not a JWS compact token")
        header_b64, claims_b64, signature_b64 = segments
        try:
            jwt_header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(signature_b64)
        except ValueError as exc:
            raise _RefusedError(403, f"VAPID JWT does not decode: {exc}") from None
        if not isinstance(jwt_header, dict) or not isinstance(claims, dict):
            raise _RefusedError(403, "VAPID JWT header and claims must be JSON objects")
        if jwt_header.get("alg") != "ES256":
            raise _RefusedError(
                403, f"VAPID JWT alg {jwt_header.get('alg')!r} != ES256"
            )
        if jwt_header.get("typ", "JWT") != "JWT":
            typ = jwt_header.get("typ")
            raise _RefusedError(403, f"VAPID JWT typ {typ!r} != JWT")

        # JWS ES256 signatures are raw r||s, not the DER cryptography expects.
        if len(signature) != 64:
            raise _RefusedError(403, "VAPID JWT signature is not 64 bytes of r||s")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"),
            int.from_bytes(signature[32:], "big"),
        )
        signed = f"{header_b64}.{claims_b64}".encode("ascii")
        try:
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise _RefusedError(403, "VAPID JWT signature does not match k") from None

        self._check_claims(claims)
        return _Vapid(claims=claims, public_key=key_text)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        aud = claims.get("aud")
        if aud != self.origin:
            raise _RefusedError(403, f"VAPID aud {aud!r} is not {self.origin!r}")
        exp = claims.get("exp")
        # bool is an int subclass, and JSON true must not pass as a time.
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise _RefusedError(403, f"VAPID exp {exp!r} is not an integer")
        now = time.time() if self._clock is None else self._clock().timestamp()
        if exp <= now:
            raise _RefusedError(403, f"VAPID exp {exp} has passed")
        if exp > now + MAX_VAPID_LIFETIME_SECONDS:
            raise _RefusedError(403, f"VAPID exp {exp} is more than 24 h ahead")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise _RefusedError(
                403, f"VAPID sub {sub!r} is not a mailto: or https: URI"
            )

    def _check_message(
        self, request: web.Request, body: bytes, subscription: BrowserSubscription
    ) -> tuple[list[_Refusal], int | None, bytes | None]:
        refusals: list[_Refusal] = []

        ttl: int | None = None
        ttl_text = request.headers.get("TTL")
        if ttl_text is None:
            refusals.append(_Refusal(400, "missing TTL header"))
        elif not _TTL_RE.fullmatch(ttl_text.strip()):
            refusals.append(_Refusal(400, f"TTL {ttl_text!r} is not an integer >= 0"))
        else:
            ttl = int(ttl_text)

        encoding = request.headers.get("Content-Encoding")
        encoding_ok = encoding is not None and encoding.strip().lower() == "aes128gcm"
        if not encoding_ok:
            refusals.append(
                _Refusal(415, f"Content-Encoding {encoding!r} is not aes128gcm")
            )

        urgency = request.headers.get("Urgency")
        if urgency is not None and urgency not in URGENCIES:
            refusals.append(_Refusal(400, f"Urgency {urgency!r} is not valid"))

        topic = request.headers.get("Topic")
        if topic is not None and not _TOPIC_RE.fullmatch(topic):
            refusals.append(
                _Refusal(400, f"Topic {topic!r} is not 1-32 base64url characters")
            )

        too_big = len(body) > MAX_PAYLOAD_BYTES
        if too_big:
            refusals.append(
                _Refusal(413, f"body of {len(body)} bytes > {MAX_PAYLOAD_BYTES}")
            )

        plaintext: bytes | None = None
        if encoding_ok and not too_big:
            try:
                plaintext = http_ece.decrypt(
                    body,
                    private_key=subscription.private_key,
                    auth_secret=subscription.auth,
                    version="aes128gcm",
                )
            # http_ece raises its own ECEException but also ValueError and
            # struct/index errors on garbage; all of them mean "undecryptable".
            except Exception as exc:
                refusals.append(_Refusal(400, f"payload does not decrypt: {exc!r}"))
        return refusals, ttl, plaintext
