"""The composition root: build every part in order, start it, stop it in reverse.

The desktop app and ``pushdesk serve`` both use ``Runtime``; only the desktop
adds a window on top, so nothing here needs a display.
"""

import asyncio
import contextlib
import multiprocessing
import os
import ssl
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web

from pushdesk.clock import Clock, system_clock
from pushdesk.config import Config, ServerOptions
from pushdesk.domain import Outcome, Subscription, Urgency
from pushdesk.errors import PushdeskError, StartupError
from pushdesk.events import Event, EventHub, ReminderChanged, SettingsChanged
from pushdesk.log import APP
from pushdesk.outside_writes import CHECK_SECONDS, OutsideWrites
from pushdesk.push.encryption import encrypt_many, follow_parent
from pushdesk.push.guard import EndpointGuard, GuardedResolver
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.push.sender import DEFAULT_TIMEOUT_SECONDS, PushSender
from pushdesk.push.vapid import VapidKeys, load_or_create
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.hygiene import DeviceHygiene
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.server.app import WebServer, create_app
from pushdesk.server.onboarding import create_onboarding_app
from pushdesk.server.tls import LocalCA, TlsFiles, machine_names
from pushdesk.services import Services
from pushdesk.settings import server_options
from pushdesk.store import Store
from pushdesk.store.settings import MAX_LATENESS, VAPID_SUBJECT
from pushdesk.validation import check_vapid_subject

# One core stays with the event loop (HTTP, SQLite, the window).
ENCRYPTION_WORKERS = max(1, (os.cpu_count() or 2) - 1)

# How often a running pushdesk checks its server certificate against the
# machine's current addresses and its expiry.
CERTIFICATE_CHECK_SECONDS = 3600

# Longer than one push's timeout, so an orderly stop never cuts a send short.
SHUTDOWN_GRACE_SECONDS = DEFAULT_TIMEOUT_SECONDS + 5


def open_store(config: Config) -> Store:
    """Open the database and remember a ``--vapid-subject`` given this time."""
    store = Store.open(config.database_path)
    if config.vapid_subject:
        store.settings.set(VAPID_SUBJECT, check_vapid_subject(config.vapid_subject))
    if config.max_lateness is not None:
        store.settings.set(MAX_LATENESS, str(int(config.max_lateness.total_seconds())))
    return store


class CurrentSender:
    """The delivery engine's sender, replaced whole when the VAPID contact
    changes; sends already on the wire finish with the one they started with."""

    def __init__(self, sender: PushSender) -> None:
        self.sender = sender

    async def encrypt_all(
        self, items: list[tuple[Subscription, bytes]]
    ) -> list[bytes | str]:
        return await self.sender.encrypt_all(items)

    async def post(
        self,
        subscription: Subscription,
        body: bytes | str,
        *,
        ttl: int,
        urgency: Urgency = Urgency.NORMAL,
        topic: str | None = None,
    ) -> Outcome:
        return await self.sender.post(
            subscription, body, ttl=ttl, urgency=urgency, topic=topic
        )


@dataclass
class Runtime:
    """Everything that runs on the event loop: server, scheduler, sender."""

    config: Config
    store: Store
    clock: Clock = system_clock
    hub: EventHub = field(default_factory=EventHub)

    def __post_init__(self) -> None:
        self.keys: VapidKeys = load_or_create(self.config.vapid_key_path)
        self.services = Services(self.store, self.hub, self.clock)
        self.receipts = ReceiptSigner(self.store.receipt_secret())
        self._session: aiohttp.ClientSession | None = None
        self._guard: EndpointGuard | None = None
        self._resolver: GuardedResolver | None = None
        self._executor: ProcessPoolExecutor | None = None
        self._ca: LocalCA | None = None
        self._tls_context: ssl.SSLContext | None = None
        self._renewal: asyncio.Task[None] | None = None
        self._following: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sender: CurrentSender | None = None
        self.scheduler: Scheduler | None = None
        self.engine: DeliveryEngine | None = None
        self.hygiene: DeviceHygiene | None = None
        self.server: WebServer | None = None
        self.outside_writes: OutsideWrites | None = None

        # Settings the operator changed in the window win over the command
        # line from then on: that is how a taken port given with --port is
        # fixed without leaving the window.
        self._changed_in_window: set[str] = set()
        self.hub.subscribe(self._apply_settings)

    @property
    def vapid_subject(self) -> str | None:
        return self.store.settings.get(VAPID_SUBJECT)

    @property
    def max_lateness(self) -> timedelta:
        return self.services.settings.current().max_lateness

    def server_options(self) -> ServerOptions:
        """What the server runs with: the saved settings, the command line
        winning, unless the config was given whole (tests, embedding)."""
        given = self.config.command_line
        if given is None:
            return self.config.server
        return server_options(
            self.services.settings.current(),
            given.without(self._changed_in_window),
            self.config.server.allowed_push_origins,
        )

    async def start(self) -> None:
        subject = self.vapid_subject
        if not subject:
            raise StartupError(
                "No VAPID contact is set; start once with "
                "--vapid-subject mailto:you@your-domain.example."
            )

        # Before the settings are read: a change another process saves while
        # pushdesk starts is then noticed, not taken for the starting point.
        self.outside_writes = OutsideWrites(self.services)
        options = self.server_options()
        self.server = await self._serve(options)
        concurrency = self.services.settings.current().concurrency

        # One session for every push: connections to a push service are reused
        # across devices and reminders. Its resolver never hands out an
        # internal address, unless the origin was allowed on the command line.
        self._guard = EndpointGuard(options.allowed_push_origins)
        self._resolver = GuardedResolver(self._guard)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, resolver=self._resolver)
        )
        # Encryption is the CPU-bound part of a fan-out: a worker process puts
        # it on another core and keeps the window and server responsive.
        self._executor = await self._encryption_workers()
        self._sender = CurrentSender(self._push_sender(subject))
        self.engine = DeliveryEngine(
            self.store,
            self._sender,
            self.hub,
            self.clock,
            concurrency=concurrency,
            receipts=self.receipts,
        )
        self.scheduler = Scheduler(
            self.store,
            self.engine,
            self.hub,
            self.clock,
            max_lateness=self.max_lateness,
        )

        scheduler, engine = self.scheduler, self.engine

        def on_event(event: Event) -> None:
            if isinstance(event, ReminderChanged):
                scheduler.wake()
                engine.wake()

        self.hub.subscribe(on_event)
        # Warns quiet devices and removes those that stay quiet: once now,
        # then hourly.
        self.hygiene = DeviceHygiene(
            self.store, self.hub, self.clock, sending=self.services.sending
        )
        self._tasks = [
            asyncio.create_task(engine.run(), name="delivery"),
            asyncio.create_task(scheduler.run(), name="scheduler"),
            asyncio.create_task(self.hygiene.run(), name="hygiene"),
        ]
        self._following = asyncio.create_task(
            self._follow_outside_writes(), name="outside writes"
        )
        # Runs in every mode: a server restarted into HTTPS needs it too.
        self._renewal = asyncio.create_task(
            self._renew_certificates(), name="certificates"
        )
        APP.info("pushdesk started with data in %s", self.config.data_dir)

    async def _serve(self, options: ServerOptions) -> WebServer:
        app = create_app(
            self.services,
            self.keys.public_key,
            allowed_push_origins=options.allowed_push_origins,
            receipts=self.receipts,
        )
        context, onboarding, ca = self._tls(options)
        server = WebServer(app, options, context, onboarding)
        await server.start()
        self._ca, self._tls_context = ca, context
        return server

    async def restart_server(self) -> None:
        """Serve on the saved address, ports and HTTPS mode now.

        Open pages reconnect by themselves. When the new ones cannot be used,
        the server goes back to the old ones and StartupError says why.
        """
        options = self.server_options()
        old = self.server
        if old is not None:
            await old.stop()
        self.server = None
        try:
            self.server = await self._serve(options)
        except PushdeskError:
            if old is not None:
                await self._serve_again(old.options)
            raise
        APP.info("server restarted with the new settings")

    async def _serve_again(self, options: ServerOptions) -> None:
        try:
            self.server = await self._serve(options)
        except PushdeskError as exc:
            # Someone took the old port meanwhile; the window offers Settings.
            APP.error("unable to go back to the old server settings: %s", exc)

    def _push_sender(self, subject: str) -> PushSender:
        assert self._session is not None
        assert self._guard is not None
        return PushSender(
            self.keys,
            subject,
            self._session,
            self.clock,
            executor=self._executor,
            guard=self._guard,
        )

    def _apply_settings(self, event: Event) -> None:
        """Settings that take effect at once; the server is restarted by the
        window, which can show what went wrong."""
        if not isinstance(event, SettingsChanged):
            return
        self._changed_in_window.update(event.names)
        saved = self.services.settings.current()
        if self.scheduler is not None and "max_lateness" in event.names:
            self.scheduler.max_lateness = saved.max_lateness
        subject = saved.vapid_subject
        if self._sender is not None and "vapid_subject" in event.names and subject:
            self._sender.sender = self._push_sender(subject)

    async def _encryption_workers(self) -> ProcessPoolExecutor | None:
        """Start the worker now, so the first fan-out does not wait for it."""
        executor = ProcessPoolExecutor(
            max_workers=ENCRYPTION_WORKERS,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=follow_parent,
        )
        try:
            await asyncio.get_running_loop().run_in_executor(executor, encrypt_many, [])
        except (BrokenProcessPool, OSError) as exc:
            # Sending still works, only on this core: slower, not broken.
            APP.warning("no encryption worker (%s); encrypting in-process", exc)
            executor.shutdown(wait=False, cancel_futures=True)
            return None
        return executor

    def _tls(
        self, options: ServerOptions
    ) -> tuple[ssl.SSLContext | None, web.Application | None, LocalCA | None]:
        """HTTPS by default: the operator's certificate, or one from our CA."""
        if options.http:
            return None, None, None

        ca = None
        names = machine_names()
        if options.cert is not None and options.key is not None:
            files = TlsFiles(options.cert, options.key, None)
        else:
            ca = LocalCA(self.config.data_dir / "tls", self.clock)
            files = ca.server_files(names)
        context = files.ssl_context()
        known = {*names.dns, *(str(ip) for ip in names.ips), options.host}
        onboarding = create_onboarding_app(
            ca, lambda: self.server.port if self.server else 0, known
        )
        return context, onboarding, ca

    def renew_certificate(self) -> bool:
        """Issue a new server certificate if the machine's names or addresses
        changed or the old one nears its end; new connections get it at once.
        """
        if self._ca is None or self._tls_context is None:
            return False
        before = self._ca.server_cert_path.read_bytes()
        files = self._ca.server_files(machine_names())
        if files.cert.read_bytes() == before:
            return False
        self._tls_context.load_cert_chain(files.cert, files.key)
        return True

    async def _renew_certificates(self) -> None:
        while True:
            await asyncio.sleep(CERTIFICATE_CHECK_SECONDS)
            try:
                self.renew_certificate()
            except Exception:
                APP.exception("unable to renew the server certificate")

    async def _follow_outside_writes(self) -> None:
        assert self.outside_writes is not None
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                self.outside_writes.check()
            except PushdeskError as exc:
                # A busy or failing database: the next look tries again.
                APP.warning("cannot read changes made elsewhere: %s", exc)

    async def stop(self) -> None:
        """Stop in reverse order; a send in flight is allowed to finish its write."""
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
        if self.server is not None:
            await self.server.stop()
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal
        if self.scheduler is not None and self.engine is not None:
            # Let the sends on the wire finish and be recorded; only a push
            # service that hangs past the timeout gets cut off.
            self.scheduler.request_stop()
            self.engine.request_stop()
            if self.hygiene is not None:
                self.hygiene.request_stop()
            done, pending = await asyncio.wait(
                self._tasks, timeout=SHUTDOWN_GRACE_SECONDS
            )
            for task in pending:
                APP.warning("%s did not finish in time; stopping it", task.get_name())
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for task in done:
                if task.exception() is not None:
                    APP.error(
                        "%s ended with an error",
                        task.get_name(),
                        exc_info=task.exception(),
                    )
        if self._session is not None:
            await self._session.close()
        if self._resolver is not None:
            # The connector closes only a resolver it made itself.
            await self._resolver.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self.store.close()
        APP.info("pushdesk stopped")
