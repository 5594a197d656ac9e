"""Generated requests against the real server, for every API route.

Whatever a client sends, the server answers below 500, every refusal is JSON
with an ``error`` sentence and a ``field`` key, and afterwards the database is
intact and every stored subscription still passes the rules.

Most bodies start valid and have a few fields spoiled, so that generated
requests get past the first check; the rest are any JSON at all. Hypothesis
runs examples synchronously, so each test drives the server, listening on a
loopback port, through one event loop of its own.
"""

import asyncio
import base64
import json
import os
import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMessage, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushdesk.domain import SubscriptionInput
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.server.app import create_app
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.receipts import KINDS
from pushdesk.validation import parse_subscription
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH

PUBLIC_KEY = "B" + "A" * 86
ALLOWED = "http://127.0.0.1:9"  # a push-service double the operator allowed
JSON = {"Content-Type": "application/json"}

# The same examples on every run in CI, so that a failure there reproduces.
CI = bool(os.environ.get("CI"))


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=CI,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@dataclass(frozen=True)
class Answer:
    method: str
    status: int
    content_type: str
    body: bytes


class LiveServer:
    """The real application on a loopback port, driven from synchronous code."""

    def __init__(self, app: web.Application) -> None:
        self._loop = asyncio.Runner()
        self._client = self._loop.run(self._connect(app))
        self._socket: ClientWebSocketResponse | None = None

    @staticmethod
    async def _connect(app: web.Application) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        return client

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        return self._loop.run(self._send(method, path, body, headers or {}))

    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Answer:
        async with self._client.request(
            method,
            path,
            data=body,
            headers=headers,
            # Only the headers a test chose; aiohttp would add a Content-Type.
            skip_auto_headers=["Content-Type"],
        ) as response:
            raw = await response.read()
            return Answer(method, response.status, response.content_type, raw)

    def say_live(self, text: str) -> WSMessage:
        """Send one text message on a live-events socket (opened again if the
        server closed the last one) and return what comes back."""
        return self._loop.run(self._say_live(text))

    async def _say_live(self, text: str) -> WSMessage:
        if self._socket is None or self._socket.closed:
            self._socket = await self._client.ws_connect("/api/events")
        await self._socket.send_str(text)
        return await self._socket.receive(timeout=5)

    def close(self) -> None:
        if self._socket is not None:
            self._loop.run(self._socket.close())
        self._loop.run(self._client.close())
        self._loop.close()


@pytest.fixture
def server(services: Services) -> Iterator[LiveServer]:
    app = create_app(services, PUBLIC_KEY, allowed_push_origins=(ALLOWED,))
    live = LiveServer(app)
    yield live
    live.close()


def assert_answered_well(answer: Answer) -> None:
    """Below 500; a refusal is ``{"error": sentence, "field": name or null}``."""
    assert answer.status < 500, answer
    if answer.status < 400 or answer.method == "HEAD":
        return
    assert answer.content_type == "application/json", answer
    error = json.loads(answer.body)
    assert isinstance(error["error"], str), answer
    assert error["error"].strip(), answer
    assert "field" in error, answer
    assert error["field"] is None or isinstance(error["field"], str), answer


def assert_store_sound(store: Store) -> None:
    """The file is intact and each stored device passes the rules unchanged."""
    assert store.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    for row in store.subscriptions.all():
        document = {
            "endpoint": row.endpoint,
            "keys": {"p256dh": row.p256dh, "auth": row.auth},
            "label": row.label or "",
        }
        stored = SubscriptionInput(row.endpoint, row.p256dh, row.auth, row.label or "")
        assert parse_subscription(document, [ALLOWED]) == stored


# --- Values, good and bad ----------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# Few distinct tokens, so that re-posts, replacements and removals meet
# devices that exist.
tokens = st.sampled_from(["a", "b", "c"]) | st.text(string.ascii_letters, max_size=6)
push_hosts = st.sampled_from(
    [
        "fcm.googleapis.com",
        "android.googleapis.com",
        "updates.push.services.mozilla.com",
        "web.push.apple.com",
        "wns2-par02p.notify.windows.com",
    ]
)
good_endpoints = st.builds("https://{}/send/{}".format, push_hosts, tokens) | st.builds(
    f"{ALLOWED}/push/{{}}".format, tokens
)
odd_hosts = st.sampled_from(
    [
        "169.254.169.254",
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
        "example.com",
        "fcm.googleapis.com.example.com",
        "fcm.googleapis.com.",
        "0x7f.1",
        "xn--fcm-googleapis-9ta.com",
    ]
) | st.text(max_size=20)
odd_endpoints = (
    st.builds(
        "{}://{}{}{}{}{}".format,
        st.sampled_from(["https", "http", "HTTPS", "ftp", "javascript", ""]),
        st.sampled_from(["", "user@", "u:p@", "@"]),
        push_hosts | odd_hosts,
        st.sampled_from(["", ":443", ":9", ":0", ":99999", ":x"]),
        st.sampled_from(["", "/", "/push/a", "/fcm/send/b"]) | st.text(max_size=20),
        st.sampled_from(["", "?token=a", "#frag", "?", "#"]),
    )
    | st.text(max_size=40)
    | st.just("https://fcm.googleapis.com/" + "a" * 3000)
)


def spelled(raw: bytes, standard: bool, padded: bool) -> str:
    text = (base64.b64encode if standard else base64.urlsafe_b64encode)(raw).decode()
    return text if padded else text.rstrip("=")


def spellings(raw: st.SearchStrategy[bytes]) -> st.SearchStrategy[str]:
    """Keys in every base64 flavour a browser or an export might use."""
    return st.builds(spelled, raw, st.booleans(), st.booleans())


good_p256dh = st.just(P256DH) | spellings(
    st.just(base64.urlsafe_b64decode(P256DH + "="))
)
odd_p256dh = (
    spellings(st.binary(max_size=70))
    | spellings(st.binary(min_size=64, max_size=64).map(lambda xy: b"\x04" + xy))
    | st.just(AUTH)
    | st.text(max_size=100)
)
good_auth = st.just(AUTH) | spellings(st.binary(min_size=16, max_size=16))
odd_auth = spellings(st.binary(max_size=70)) | st.just(P256DH) | st.text(max_size=30)
good_labels = st.text(string.ascii_letters + " äß", max_size=40) | st.just("👩\u200d💻")
odd_labels = st.text(max_size=120) | st.sampled_from(["a\u202eb", "\u2066x", "\x1b"])
expirations = st.none() | st.integers(min_value=0) | st.floats(min_value=0)

ABSENT: Any = object()  # a field left out of the body


def spoiled(
    good: st.SearchStrategy[dict[str, Any]],
    odd: dict[str, st.SearchStrategy[Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with up to three fields ("keys.auth": nested) replaced by
    an odd value, any JSON, or nothing; and perhaps some unknown fields."""

    @st.composite
    def bodies(draw: Callable[[st.SearchStrategy[Any]], Any]) -> dict[str, Any]:
        body = draw(good)
        for path in draw(st.sets(st.sampled_from(sorted(odd)), max_size=3)):
            value = draw(odd[path] | json_values | st.just(ABSENT))
            _put(body, path.split("."), value)
        extra = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2))
        return extra | body

    return bodies()


def _put(body: Any, path: list[str], value: Any) -> None:
    *parents, name = path
    for parent in parents:
        body = body.get(parent) if isinstance(body, dict) else None
    if not isinstance(body, dict):
        return  # an earlier change replaced the object this field was in
    if value is ABSENT:
        body.pop(name, None)
    else:
        body[name] = value


def good_proofs() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"endpoint": good_endpoints, "auth": good_auth})


ODD_PROOF = {"endpoint": odd_endpoints, "auth": odd_auth}

subscriptions = spoiled(
    st.fixed_dictionaries(
        {
            "endpoint": good_endpoints,
            "expirationTime": expirations,
            "keys": st.fixed_dictionaries({"p256dh": good_p256dh, "auth": good_auth}),
        },
        optional={"label": good_labels, "replaces": good_proofs()},
    ),
    {
        "endpoint": odd_endpoints,
        "expirationTime": json_scalars,
        "keys": json_values,
        "keys.p256dh": odd_p256dh,
        "keys.auth": odd_auth,
        "label": odd_labels,
        "replaces": json_values,
        "replaces.endpoint": odd_endpoints,
        "replaces.auth": odd_auth,
    },
)
proofs = spoiled(good_proofs(), ODD_PROOF)


# --- How bodies travel -------------------------------------------------------

odd_content_types = st.sampled_from(
    [
        "APPLICATION/JSON",
        "application/json; charset=utf-16",
        "application/json; charset=latin-1",
        "application/json; charset=bogus",
        "application/json; charset=rot13",
        "application/json; charset=",
        "application/json;;;",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
    ]
) | st.text(string.printable.strip() + " ", max_size=40)


@dataclass(frozen=True)
class Encoding:
    """A Content-Type (None: no header) and the charset the bytes are in."""

    content_type: str | None
    charset: str
    ensure_ascii: bool

    def body(self, value: Any) -> bytes:
        text = json.dumps(value, ensure_ascii=self.ensure_ascii)
        try:
            return text.encode(self.charset, errors="surrogatepass")
        except UnicodeError:
            # This charset cannot hold the text; send it escaped instead.
            return json.dumps(value).encode("ascii")

    def headers(self) -> dict[str, str]:
        return {} if self.content_type is None else {"Content-Type": self.content_type}


PLAIN = Encoding("application/json", "utf-8", ensure_ascii=False)
encodings = st.one_of(
    st.just(PLAIN),
    st.just(PLAIN),
    st.just(PLAIN),
    st.builds(
        Encoding,
        st.none() | st.just("application/json") | odd_content_types,
        st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1", "cp1252"]),
        st.booleans(),
    ),
)


# --- The routes --------------------------------------------------------------


def post_many(
    server: LiveServer,
    clock: FakeClock,
    route: tuple[str, str],
    bodies: st.SearchStrategy[Any],
    examples: int,
    before_each: Callable[[], object] = lambda: None,
) -> Counter[int]:
    """Send ``examples`` generated bodies to one route; the statuses seen."""
    method, path = route
    seen: Counter[int] = Counter()

    @fuzz(examples)
    @given(value=bodies, encoding=encodings)
    def sends(value: Any, encoding: Encoding) -> None:
        # A minute passes between requests, so that the rate limits stay out
        # of the way of what is tested here.
        clock.advance(minutes=1)
        before_each()

        answer = server.send(method, path, encoding.body(value), encoding.headers())

        assert_answered_well(answer)
        seen[answer.status] += 1

    sends()
    return seen


def anything_or(bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(bodies, bodies, bodies, json_values)


def test_subscribe_never_fails_and_stores_only_sound_rows(
    server: LiveServer, clock: FakeClock, store: Store
) -> None:
    route = ("POST", "/api/subscriptions")

    seen = post_many(server, clock, route, anything_or(subscriptions), 600)

    assert_store_sound(store)
    # Valid ones got through as well, both first posts and re-posts.
    assert seen[201], seen
    assert seen[200], seen


@pytest.mark.parametrize(
    "route",
    [("DELETE", "/api/subscriptions"), ("POST", "/api/test-notification")],
)
def test_device_proofs_never_fail(
    server: LiveServer,
    clock: FakeClock,
    store: Store,
    services: Services,
    route: tuple[str, str],
) -> None:
    def devices_exist() -> None:
        # So that a proof can be right, also after a removal.
        for token in ("a", "b"):
            endpoint = f"https://fcm.googleapis.com/send/{token}"
            services.subscriptions.register(SubscriptionInput(endpoint, P256DH, AUTH))

    seen = post_many(server, clock, route, anything_or(proofs), 300, devices_exist)

    assert_store_sound(store)
    assert seen[200] or seen[202], seen


def test_receipts_never_fail(
    server: LiveServer, clock: FakeClock, store: Store, services: Services
) -> None:
    device, _ = services.subscriptions.register(
        SubscriptionInput("https://fcm.googleapis.com/send/r", P256DH, AUTH)
    )
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    signer = ReceiptSigner(services.receipt_secret())
    # Signed rightly, also for a reminder or a device that does not exist.
    pairs = st.sampled_from([(reminder.id, device.id), (999, device.id), (1, 999)])
    good = pairs.flatmap(
        lambda pair: st.fixed_dictionaries(
            {
                "id": st.just(pair[0]),
                "device": st.just(pair[1]),
                "receipt": st.just(signer.token(*pair)),
                "kind": st.sampled_from(KINDS),
            }
        )
    )
    ids = st.integers() | st.floats() | st.booleans() | st.text(max_size=5)
    receipts = spoiled(
        good,
        {
            "id": ids,
            "device": ids,
            "receipt": st.text(string.ascii_letters + "-_", max_size=30) | st.text(),
            "kind": st.text(max_size=10),
        },
    )

    seen = post_many(
        server, clock, ("POST", "/api/receipts"), anything_or(receipts), 400
    )

    assert_store_sound(store)
    assert seen[204], seen


def test_live_identify_messages_never_fail(
    server: LiveServer, clock: FakeClock, store: Store, services: Services
) -> None:
    from pushdesk.server.events import MAX_MESSAGE_BYTES

    device, _ = services.subscriptions.register(
        SubscriptionInput("https://fcm.googleapis.com/send/a", P256DH, AUTH)
    )
    identifies = spoiled(
        st.fixed_dictionaries(
            {"type": st.just("identify"), "device": st.none() | good_proofs()}
        ),
        {"type": json_values, "device": json_values, **prefixed("device", ODD_PROOF)},
    )
    # A larger message closes the socket (tests/server/test_hostile.py).
    texts = st.one_of(
        identifies.map(json.dumps),
        identifies.map(json.dumps),
        json_values.map(json.dumps),
        st.text(max_size=50),
    ).filter(lambda text: len(text.encode()) <= MAX_MESSAGE_BYTES)
    devices: Counter[Any] = Counter()

    @fuzz(300)
    @given(text=texts)
    def says(text: str) -> None:
        clock.advance(minutes=1)  # the rate limit stays out of the way

        reply = server.say_live(text)

        assert reply.type == WSMsgType.TEXT, reply
        answer = json.loads(reply.data)
        if answer["type"] == "identified":
            assert set(answer) == {"type", "device"}
            devices[answer["device"]] += 1
            return
        assert answer["type"] == "refused", answer
        assert isinstance(answer["error"], str), answer
        assert answer["error"].strip(), answer
        assert answer["field"] is None or isinstance(answer["field"], str), answer

    says()

    assert_store_sound(store)
    # Both outcomes of a sound message came up: the device, and no device.
    assert devices[device.id], devices
    assert devices[None], devices


def prefixed(prefix: str, spoilers: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{name}": value for name, value in spoilers.items()}


# --- A visitor's own reminders (issue 8) ---------------------------------------

VISITOR_DEVICES = (
    "https://fcm.googleapis.com/send/a",
    "https://fcm.googleapis.com/send/b",
)
visitor_proofs = st.fixed_dictionaries(
    {"endpoint": st.sampled_from(VISITOR_DEVICES), "auth": st.just(AUTH)}
)
# The valid bodies are valid as a whole (an acceptable message, one "when",
# only proven devices), so that some always get through; spoiled() then
# replaces up to three fields with odd values, and the odd message texts,
# both "when"s, "at" of any kind and unproven devices come in that way.
good_messages = st.text(string.ascii_letters + " äß👩\u200d💻", min_size=1).filter(
    str.strip
) | st.sampled_from(["Check the oven", "<img src=x onerror=alert(1)>"])
odd_messages = st.text(max_size=250) | st.sampled_from(["a\u202eb", " ", "\x00"])
moments = st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
self_reminders = spoiled(
    st.fixed_dictionaries(
        {
            "endpoint": st.sampled_from(VISITOR_DEVICES),
            "auth": st.just(AUTH),
            "message": good_messages.filter(lambda text: len(text.strip()) <= 200),
            "in_minutes": st.integers(min_value=1, max_value=7 * 24 * 60),
        },
        optional={"also": st.lists(visitor_proofs, max_size=3)},
    ),
    ODD_PROOF
    | {
        "message": odd_messages | json_values,
        "in_minutes": st.integers(min_value=-5, max_value=20_000) | json_scalars,
        "at": moments | st.text(max_size=40) | json_scalars,
        "also": st.lists(visitor_proofs | good_proofs(), max_size=3) | json_values,
    },
)


def test_self_reminders_never_fail_and_reach_only_proven_devices(
    server: LiveServer, clock: FakeClock, store: Store, services: Services
) -> None:
    ids = {
        services.subscriptions.register(SubscriptionInput(endpoint, P256DH, AUTH))[0].id
        for endpoint in VISITOR_DEVICES
    }
    services.reminders.schedule("Operator's", "Not theirs", None, clock.now)
    # Room for every valid one, so that the rules and not the limit decide.
    services.settings.save(
        replace(
            services.settings.current(),
            vapid_subject="mailto:ops@example.org",
            visitor_pending_per_device=1000,
        )
    )

    created = post_many(
        server, clock, ("POST", "/api/self-reminders"), anything_or(self_reminders), 400
    )
    listed = post_many(
        server,
        clock,
        ("POST", "/api/self-reminders/list"),
        anything_or(spoiled(visitor_proofs, ODD_PROOF)),
        100,
    )
    cancelled = post_many(
        server,
        clock,
        ("DELETE", "/api/self-reminders/1"),
        anything_or(spoiled(visitor_proofs, ODD_PROOF)),
        100,
    )

    assert_store_sound(store)
    assert created[201], created
    assert listed[200], listed
    assert cancelled[403], cancelled  # reminder 1 is the operator's
    for reminder in store.reminders.all():
        if reminder.visitor_device is None:
            assert reminder.message == "Not theirs"
            continue
        assert reminder.visitor_device in ids
        assert set(reminder.target.subscription_ids) <= ids
        assert 0 < len(reminder.message) <= 200


ROUTES = [
    "/api/vapid-public-key",
    "/api/health",
    "/api/subscriptions",
    "/api/receipts",
    "/api/test-notification",
    "/api/self-reminders",
    "/api/self-reminders/list",
    "/api/self-reminders/1",
    "/api/self-reminders/-1",
    "/api/self-reminders/99999999999999999999999",
    "/api/nothing-here",
]
# Every method aiohttp's HTTP parser knows (CONNECT aside, which opens a
# tunnel). It answers any other with a plain-text 400 before pushdesk sees
# the request, so those cannot carry pushdesk's JSON.
_METHOD_NAMES = (
    "GET HEAD POST PUT PATCH DELETE OPTIONS TRACE COPY LOCK MKCOL MOVE "
    "PROPFIND PROPPATCH SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY "
    "CHECKOUT MERGE NOTIFY SUBSCRIBE UNSUBSCRIBE PURGE MKCALENDAR LINK UNLINK"
)
METHODS = st.sampled_from(_METHOD_NAMES.split())
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
)
odd_headers = st.dictionaries(
    st.sampled_from(
        [
            "Content-Type",
            "Content-Encoding",
            "Accept",
            "Accept-Charset",
            "Origin",
            "Cookie",
            "X-Forwarded-For",
            "User-Agent",
        ]
    ),
    st.sampled_from(["identity", "gzip", "deflate", "br", "zstd", "x-bogus"])
    | odd_content_types
    | header_text,
    max_size=4,
)
raw_bodies = (
    st.none()
    | st.binary(max_size=200)
    | st.builds(lambda value: json.dumps(value).encode(), json_values)
    | st.sampled_from(
        [
            b"{",
            b"[" * 5000 + b"]" * 5000,
            b'{"id": ' + b"9" * 5000 + b"}",
            b"\xef\xbb\xbf{}",
            b'{"endpoint": "\\ud800"}',
            b'{"label": NaN}',
        ]
    )
)


def test_any_method_headers_and_bytes_on_any_route(
    server: LiveServer, clock: FakeClock, store: Store
) -> None:
    @fuzz(700)
    @given(
        method=METHODS,
        path=st.sampled_from(ROUTES),
        query=st.sampled_from(["", "?x=1", "?endpoint=https://127.0.0.1/"]),
        headers=odd_headers,
        body=raw_bodies,
    )
    def sends(
        method: str, path: str, query: str, headers: dict[str, str], body: bytes | None
    ) -> None:
        clock.advance(minutes=1)

        assert_answered_well(server.send(method, path + query, body, headers))

    sends()

    assert_store_sound(store)


API = [
    ("GET", "/api/vapid-public-key"),
    ("GET", "/api/health"),
    ("POST", "/api/subscriptions"),
    ("DELETE", "/api/subscriptions"),
    ("POST", "/api/receipts"),
    ("POST", "/api/test-notification"),
    ("POST", "/api/self-reminders"),
    ("POST", "/api/self-reminders/list"),
    ("DELETE", "/api/self-reminders/1"),
]


def test_any_expect_header_on_the_api_routes(server: LiveServer) -> None:
    @fuzz(100)
    @given(
        route=st.sampled_from(API),
        expect=st.sampled_from(["100-continue", "100-Continue", "gzip"]) | header_text,
    )
    def sends(route: tuple[str, str], expect: str) -> None:
        method, path = route
        headers = JSON | {"Expect": expect}

        assert_answered_well(server.send(method, path, b"{}", headers))

    sends()
