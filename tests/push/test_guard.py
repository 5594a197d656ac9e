"""A stored endpoint never makes pushdesk talk to an internal host.

Real sockets on loopback throughout; the only stand-in is a resolver answering
for names that cannot be looked up offline.
"""

import asyncio
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Self

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from pushdesk.app import Runtime, open_store
from pushdesk.clock import system_clock
from pushdesk.config import Config
from pushdesk.domain import (
    Delivered,
    Failed,
    Rejected,
    ReminderStatus,
    Subscription,
    SubscriptionInput,
)
from pushdesk.events import Event, ReminderSent
from pushdesk.push.guard import (
    EndpointGuard,
    GuardedResolver,
    InternalAddress,
    internal_kind,
)
from pushdesk.push.sender import PushSender
from pushdesk.push.vapid import VapidKeys, load_or_create
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH
from tests.support.push_service import PushServiceDouble
from tests.support.sending import run_due

SUBJECT = "mailto:ops@example.org"
TOKEN = "secret-push-token"  # the bearer part of an endpoint: never logged


class HostsFile(AbstractResolver):
    """Answers from a fixed table, as a poisoned or rebound DNS would."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.table:
            raise OSError(f"{host} is not in the table")
        return [_result(host, address, port) for address in self.table[host]]

    async def close(self) -> None:
        self.closed = True


def _result(host: str, address: str, port: int) -> ResolveResult:
    version = ipaddress.ip_address(address).version
    return ResolveResult(
        hostname=host,
        host=address,
        port=port,
        family=socket.AF_INET6 if version == 6 else socket.AF_INET,
        proto=0,
        flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    )


class Listener:
    """A loopback TCP port that counts who connects to it."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        writer.close()
        await writer.wait_closed()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebSite:
    """A loopback HTTP server answering every POST with ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


def device(endpoint: str, p256dh: str = P256DH, auth: str = AUTH) -> Subscription:
    now = system_clock()
    return Subscription(1, endpoint, p256dh, auth, None, now, now)


@pytest.fixture
def keys(tmp_path: Path) -> VapidKeys:
    return load_or_create(tmp_path / "vapid_private.pem")


@pytest.fixture
def requests_made() -> list[str]:
    return []


@pytest.fixture
def hosts() -> HostsFile:
    return HostsFile({})


@pytest_asyncio.fixture
async def session(
    hosts: HostsFile, requests_made: list[str]
) -> AsyncIterator[Callable[[EndpointGuard], aiohttp.ClientSession]]:
    """Sessions built as the app builds its own: resolving through the guard."""
    opened: list[aiohttp.ClientSession] = []

    async def on_request_start(
        _: aiohttp.ClientSession,
        __: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        requests_made.append(str(params.url))

    def make(guard: EndpointGuard) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_request_start)
        resolver = GuardedResolver(guard, hosts)
        connector = aiohttp.TCPConnector(resolver=resolver)
        opened.append(aiohttp.ClientSession(connector=connector, trace_configs=[trace]))
        return opened[-1]

    yield make
    for each in opened:
        await each.close()


@pytest.fixture
def sender(
    keys: VapidKeys,
    session: Callable[[EndpointGuard], aiohttp.ClientSession],
) -> Callable[[EndpointGuard], PushSender]:
    def make(guard: EndpointGuard) -> PushSender:
        return PushSender(
            keys, SUBJECT, session(guard), system_clock, timeout=2, guard=guard
        )

    return make


async def post(sender: PushSender, subscription: Subscription) -> object:
    return await sender.send(subscription, b"{}", ttl=60)


# --- which addresses are internal ---------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.7", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared address space"),
        ("100.127.255.254", "shared address space"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("233.252.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.1.2.3", "private"),  # "this network"
        ("192.0.2.10", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("fec0::1", "site-local"),
        ("2001:db8::1", "private"),  # documentation
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.7", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:100.64.0.1", "shared address space"),
        ("64:ff9b::a00:7", "private"),  # NAT64 of 10.0.0.7
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:a00:7::1", "6to4 of an internal address"),
        ("::127.0.0.1", "reserved"),  # the deprecated IPv4-compatible form
        ("100::1", "reserved"),  # discard-only
        ("2001::1", "private"),  # Teredo
    ],
)
def test_internal_addresses_are_named(address: str, kind: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "142.250.185.74",
        "100.128.0.1",  # just past the shared address space
        "2607:f8b0:4005:80a::200a",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) is None


# --- which endpoints may be posted to -------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "refusal"),
    [
        (
            "https://169.254.169.254/latest/meta-data",
            "refused: 169.254.169.254 is an internal address (link-local)",
        ),
        (
            "https://127.0.0.1/push/x",
            "refused: 127.0.0.1 is an internal address (loopback)",
        ),
        ("https://[::1]/push/x", "refused: ::1 is an internal address (loopback)"),
        (
            "https://[::ffff:10.0.0.1]:8443/x",
            "refused: ::ffff:10.0.0.1 is an internal address (private)",
        ),
        ("http://10.0.0.1/x", "refused: 10.0.0.1 is an internal address (private)"),
        ("https://8.8.8.8/push", "refused: 8.8.8.8 is not a known push service"),
        (
            "https://example.com/push/x",
            "refused: example.com is not a known push service",
        ),
        ("https://localhost/x", "refused: localhost is not a known push service"),
        ("https://2130706433/x", "refused: 2130706433 is not a known push service"),
        (
            "https://fcm.googleapis.com.evil.example/x",
            "refused: fcm.googleapis.com.evil.example is not a known push service",
        ),
        (
            "https://googleapis.com/x",
            "refused: googleapis.com is not a known push service",
        ),
        (
            "https://notfcm.googleapis.com/x",
            "refused: notfcm.googleapis.com is not a known push service",
        ),
        (
            "http://fcm.googleapis.com/fcm/send/x",
            "refused: http://fcm.googleapis.com is not https",
        ),
        (
            "https://fcm.googleapis.com:99999/x",
            "refused: the endpoint is not a URL with a host",
        ),
        ("not a url", "refused: the endpoint is not a URL with a host"),
    ],
)
def test_endpoint_that_is_internal_or_no_push_service_is_refused(
    endpoint: str, refusal: str
) -> None:
    assert EndpointGuard().refusal(endpoint) == refusal


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://FCM.googleapis.com./fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://android.googleapis.com/gcm/send/abc",
        "https://web.push.apple.com/QGx",
        "https://wns2-by3p.notify.windows.com/w/?token=abc",
    ],
)
def test_push_service_endpoint_passes(endpoint: str) -> None:
    assert EndpointGuard().refusal(endpoint) is None


@pytest.mark.parametrize(
    ("allowed", "endpoint"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/push/x"),
        ("https://push.example.test", "https://push.example.test:443/push/x"),
        ("https://Push.Example.Test:443", "https://push.example.test/push/x"),
        ("http://[::1]:9000", "http://[::1]:9000/push/x"),
    ],
)
def test_allowed_origin_passes_whatever_its_address(
    allowed: str, endpoint: str
) -> None:
    assert EndpointGuard([allowed]).refusal(endpoint) is None


def test_allowed_origin_is_exact_scheme_host_and_port() -> None:
    guard = EndpointGuard(["http://127.0.0.1:9000"])

    assert guard.refusal("http://127.0.0.1:9001/push/x") is not None
    assert guard.refusal("https://127.0.0.1:9000/push/x") is not None


# --- the resolver: what a name resolves to when connecting ---------------------


async def test_push_service_name_with_a_public_address_resolves() -> None:
    upstream = HostsFile({"fcm.googleapis.com": ["142.250.185.74"]})
    resolver = GuardedResolver(EndpointGuard(), upstream)

    found = await resolver.resolve("fcm.googleapis.com", 443, socket.AF_UNSPEC)

    assert [(r["host"], r["port"]) for r in found] == [("142.250.185.74", 443)]


async def test_name_with_only_internal_addresses_is_refused() -> None:
    upstream = HostsFile({"push.example.test": ["10.0.0.7", "fd00::7"]})
    resolver = GuardedResolver(EndpointGuard(), upstream)

    with pytest.raises(InternalAddress) as refused:
        await resolver.resolve("push.example.test", 443)

    assert str(refused.value) == (
        "refused: push.example.test resolves only to internal addresses: "
        "10.0.0.7 (private), fd00::7 (private)"
    )


async def test_internal_addresses_are_dropped_from_a_mixed_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = HostsFile(
        {"fcm.googleapis.com": ["169.254.169.254", "142.250.185.74", "::1"]}
    )
    resolver = GuardedResolver(EndpointGuard(), upstream)

    with caplog.at_level(logging.WARNING, "pushdesk.push"):
        found = await resolver.resolve("fcm.googleapis.com", 443)

    assert [r["host"] for r in found] == ["142.250.185.74"]
    assert "169.254.169.254 (link-local), ::1 (loopback)" in caplog.text


async def test_unreadable_address_from_a_resolver_counts_as_internal() -> None:
    class Odd(HostsFile):
        async def resolve(
            self,
            host: str,
            port: int = 0,
            family: socket.AddressFamily = socket.AF_INET,
        ) -> list[ResolveResult]:
            result = _result(host, "8.8.8.8", port)
            result["host"] = "eight.eight"
            return [result]

    resolver = GuardedResolver(EndpointGuard(), Odd({}))

    with pytest.raises(InternalAddress):
        await resolver.resolve("fcm.googleapis.com", 443)


async def test_allowed_host_and_port_resolve_to_anything() -> None:
    upstream = HostsFile({"localhost": ["127.0.0.1", "::1"]})
    resolver = GuardedResolver(EndpointGuard(["http://localhost:9000"]), upstream)

    found = await resolver.resolve("localhost", 9000)
    with pytest.raises(InternalAddress):
        await resolver.resolve("localhost", 9001)

    assert [r["host"] for r in found] == ["127.0.0.1", "::1"]


async def test_closing_the_resolver_closes_the_one_it_wraps() -> None:
    upstream = HostsFile({})

    await GuardedResolver(EndpointGuard(), upstream).close()

    assert upstream.closed


# --- the sender: refused endpoints are never posted to ----------------------------


@pytest.mark.parametrize(
    ("endpoint", "error"),
    [
        (
            f"https://169.254.169.254/latest/{TOKEN}",
            "refused: 169.254.169.254 is an internal address (link-local)",
        ),
        (
            f"https://127.0.0.1:{{port}}/push/{TOKEN}",
            "refused: 127.0.0.1 is an internal address (loopback)",
        ),
        (
            f"https://[::1]:{{port}}/push/{TOKEN}",
            "refused: ::1 is an internal address (loopback)",
        ),
        (
            f"https://example.com/push/{TOKEN}",
            "refused: example.com is not a known push service",
        ),
    ],
    ids=["metadata", "loopback", "loopback-v6", "not-a-push-service"],
)
async def test_refused_endpoint_fails_for_good_without_a_request(
    sender: Callable[[EndpointGuard], PushSender],
    requests_made: list[str],
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
    error: str,
) -> None:
    async with Listener() as listener:
        subscription = device(endpoint.format(port=listener.port))

        with caplog.at_level(logging.WARNING, "pushdesk.push"):
            outcome = await post(sender(EndpointGuard()), subscription)

    assert outcome == Failed(None, error)
    assert requests_made == []
    assert listener.connections == 0
    assert subscription.short_endpoint in caplog.text
    assert TOKEN not in caplog.text


async def test_push_service_name_resolving_to_a_listening_loopback_reaches_nothing(
    sender: Callable[[EndpointGuard], PushSender],
    hosts: HostsFile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Listener() as listener:
        hosts.table["updates.push.services.mozilla.com"] = ["127.0.0.1"]
        subscription = device(
            f"https://updates.push.services.mozilla.com:{listener.port}/wpush/{TOKEN}"
        )

        with caplog.at_level(logging.WARNING, "pushdesk.push"):
            outcome = await post(sender(EndpointGuard()), subscription)

    assert outcome == Failed(
        None,
        "refused: updates.push.services.mozilla.com resolves only to internal "
        "addresses: 127.0.0.1 (loopback)",
    )
    assert listener.connections == 0
    assert TOKEN not in caplog.text


async def test_host_resolving_to_a_private_address_at_send_time_is_refused(
    sender: Callable[[EndpointGuard], PushSender], hosts: HostsFile
) -> None:
    guard = EndpointGuard(push_service=lambda host: host == "push.example.test")
    hosts.table["push.example.test"] = ["10.0.0.7"]

    outcome = await post(sender(guard), device(f"https://push.example.test/{TOKEN}"))

    assert outcome == Failed(
        None,
        "refused: push.example.test resolves only to internal addresses: "
        "10.0.0.7 (private)",
    )


async def test_real_lookup_of_a_loopback_name_is_refused(
    keys: VapidKeys, requests_made: list[str]
) -> None:
    # The system's own resolver this time: localhost comes from the hosts file.
    guard = EndpointGuard(push_service=lambda host: host == "localhost")
    async with (
        Listener() as listener,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=GuardedResolver(guard))
        ) as session,
    ):
        sender = PushSender(keys, SUBJECT, session, system_clock, guard=guard)
        outcome = await post(sender, device(f"https://localhost:{listener.port}/x"))

    assert isinstance(outcome, Failed)
    assert outcome.error.startswith("refused: localhost resolves only to internal")
    assert listener.connections == 0


async def test_allowed_loopback_push_service_still_gets_its_pushes(
    sender: Callable[[EndpointGuard], PushSender], push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    keys = browser.to_json()["keys"]
    subscription = device(browser.endpoint, keys["p256dh"], keys["auth"])

    outcome = await post(sender(EndpointGuard([push_service.origin])), subscription)

    assert outcome == Delivered(201)
    assert [p.endpoint for p in push_service.received] == [browser.endpoint]
    assert push_service.problems == []


async def test_allowed_origin_by_name_is_looked_up_and_reached(
    keys: VapidKeys,
) -> None:
    async def created(_: web.Request) -> web.Response:
        return web.Response(status=201)

    async with WebSite(created) as site:
        guard = EndpointGuard([f"http://localhost:{site.port}"])
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(guard))
        async with aiohttp.ClientSession(connector=connector) as session:
            sender = PushSender(keys, SUBJECT, session, system_clock, guard=guard)
            endpoint = f"http://localhost:{site.port}/push/{TOKEN}"
            outcome = await post(sender, device(endpoint))

    assert outcome == Delivered(201)


async def test_redirect_to_an_internal_host_is_not_followed(
    sender: Callable[[EndpointGuard], PushSender],
) -> None:
    async with Listener() as listener:

        async def elsewhere(_: web.Request) -> web.Response:
            location = f"http://127.0.0.1:{listener.port}/admin"
            raise web.HTTPTemporaryRedirect(location)

        async with WebSite(elsewhere) as site:
            guard = EndpointGuard([f"http://127.0.0.1:{site.port}"])
            endpoint = f"http://127.0.0.1:{site.port}/push/{TOKEN}"
            outcome = await post(sender(guard), device(endpoint))

    assert outcome == Rejected(307, "307 Temporary Redirect")
    assert listener.connections == 0


# --- through the delivery engine: recorded, and never tried again ---------------


async def test_refused_device_is_logged_as_failed_and_never_retried(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [browser] = subscribe(services, push_service)
    phone = store.subscriptions.find(browser.endpoint)
    assert phone is not None
    metadata, _ = store.subscriptions.upsert(
        SubscriptionInput(f"https://169.254.169.254/latest/{TOKEN}", P256DH, AUTH),
        clock.now,
    )
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    with caplog.at_level(logging.WARNING, "pushdesk.push"):
        await run_due(scheduler, engine)
    clock.advance(hours=2)
    await run_due(scheduler, engine)

    attempts = sorted(
        (d.subscription_id, d.outcome, d.status_code, d.error)
        for d in store.deliveries.for_reminder(reminder.id)
    )
    assert attempts == sorted(
        [
            (phone.id, "delivered", 201, None),
            (
                metadata.id,
                "failed",
                None,
                "refused: 169.254.169.254 is an internal address (link-local)",
            ),
        ]
    )
    assert store.sends.states(reminder.id) == {"delivered": 1, "failed": 1}
    assert services.reminders.get(reminder.id).status is ReminderStatus.PARTLY_SENT
    assert metadata.short_endpoint in caplog.text
    assert TOKEN not in caplog.text


async def test_the_app_refuses_internal_endpoints_and_still_reaches_allowed_ones(
    config: Config, push_service: PushServiceDouble
) -> None:
    runtime = Runtime(config, open_store(config))
    browser = push_service.new_subscription()
    keys = browser.to_json()["keys"]
    for endpoint in (browser.endpoint, f"https://10.0.0.1/push/{TOKEN}"):
        runtime.store.subscriptions.upsert(
            SubscriptionInput(endpoint, keys["p256dh"], keys["auth"]), system_clock()
        )
    finished = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, ReminderSent):
            finished.set()

    runtime.hub.subscribe(on_event)
    await runtime.start()
    try:
        reminder = runtime.services.reminders.schedule("T", "M", None, system_clock())
        await asyncio.wait_for(finished.wait(), timeout=10)
        attempts = sorted(
            (d.endpoint_host, d.outcome, d.error)
            for d in runtime.store.deliveries.for_reminder(reminder.id)
        )
    finally:
        await runtime.stop()

    assert attempts == [
        ("10.0.0.1", "failed", "refused: 10.0.0.1 is an internal address (private)"),
        ("127.0.0.1", "delivered", None),
    ]
    assert [p.endpoint for p in push_service.received] == [browser.endpoint]
