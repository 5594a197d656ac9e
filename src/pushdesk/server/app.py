"""The aiohttp application factory and the runner that binds it to a port."""

import errno
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from aiohttp import web

from pushdesk.config import ServerOptions
from pushdesk.errors import StartupError
from pushdesk.log import WEB
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.resources import web_dir
from pushdesk.server import api
from pushdesk.server.events import LiveEvents
from pushdesk.server.headers import add_security_headers
from pushdesk.server.limits import LIMITS, ClientLimits, hold_to_limits
from pushdesk.services import Services

NO_CACHE = {"Cache-Control": "no-cache"}

LIVE_EVENTS = web.AppKey("live_events", LiveEvents)


def create_app(
    services: Services,
    vapid_public_key: str,
    *,
    allowed_push_origins: tuple[str, ...] = (),
    web_root: Path | None = None,
    receipts: ReceiptSigner | None = None,
) -> web.Application:
    """The page, its API and live events; limits come from the settings."""
    root = web_root or web_dir()
    limits = ClientLimits(services)
    app = web.Application(
        client_max_size=limits.body_bytes,
        # Limits sit inside the JSON errors, which render what escapes them.
        middlewares=[api.json_errors, hold_to_limits],
        # Compressed bodies are refused by the API (api.read_json), in JSON;
        # aiohttp's own decoding would fail some in plain text first.
        handler_args={"auto_decompress": False},
    )
    add_security_headers(app)
    app[LIMITS] = limits
    app[api.SERVICES] = services
    app[api.VAPID_PUBLIC_KEY] = vapid_public_key
    app[api.ALLOWED_PUSH_ORIGINS] = allowed_push_origins
    app[api.RECEIPTS] = receipts or ReceiptSigner(services.receipt_secret())

    live = LiveEvents(
        services.hub, limits, services.subscriptions.owned, allowed_push_origins
    )
    app[LIVE_EVENTS] = live
    app.on_shutdown.append(lambda _app: live.close())
    app.on_cleanup.append(lambda _app: _close(limits))

    api.add_routes(app)
    # Only GET: aiohttp would upgrade a HEAD with WebSocket headers too.
    app.router.add_get("/api/events", live.handle, allow_head=False)
    _add_page_routes(app, root)
    return app


async def _close(limits: ClientLimits) -> None:
    limits.close()


def _add_page_routes(app: web.Application, root: Path) -> None:
    def file(
        name: str, headers: dict[str, str] | None = None
    ) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
        async def serve(_request: web.Request) -> web.FileResponse:
            return web.FileResponse(
                root / name, headers={**NO_CACHE, **(headers or {})}
            )

        return serve

    app.router.add_get("/", file("index.html"))
    app.router.add_get("/app.js", file("app.js"))
    app.router.add_get("/app.css", file("app.css"))

    # The worker is never cached, so a new version reaches devices on the next
    # visit, and it may control the whole origin.
    app.router.add_get(
        "/sw.js",
        file("sw.js", {"Service-Worker-Allowed": "/", "Cache-Control": "no-store"}),
    )
    app.router.add_get(
        "/manifest.webmanifest",
        file("manifest.webmanifest", {"Content-Type": "application/manifest+json"}),
    )
    app.router.add_get("/icons/{name}", _icons(root / "icons"))


def _icons(folder: Path) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    """The icons shipped, by name: a request names one of them or gets a 404.

    aiohttp's static route would look any name up on disk, and a name longer
    than the file system allows made it fail with a 500.
    """
    names = {
        path.name
        for path in folder.glob("*")
        if path.is_file() and not path.name.startswith(".")
    }

    async def serve(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in names:
            raise web.HTTPNotFound()
        return web.FileResponse(folder / name)

    return serve


@dataclass
class WebServer:
    """Runs the application on the current loop (no ``run_app``).

    With an SSL context it serves HTTPS, and the ``onboarding`` app (if any)
    on the plain-HTTP helper port beside it.
    """

    app: web.Application
    options: ServerOptions
    ssl_context: ssl.SSLContext | None = None
    onboarding: web.Application | None = None
    _runners: list[web.AppRunner] = field(default_factory=list, init=False)
    port: int = field(default=0, init=False)
    helper_port: int | None = field(default=None, init=False)

    async def start(self) -> None:
        main = await self._serve(self.app, self.options.main_port, self.ssl_context)
        self.port = _bound_port(main) or self.options.main_port
        if self.onboarding is not None and self.options.helper_port is not None:
            helper = await self._serve(self.onboarding, self.options.helper_port, None)
            self.helper_port = _bound_port(helper) or self.options.helper_port
        WEB.info("listening on %s", ", ".join(self.urls()))
        if self.helper_port is not None:
            WEB.info(
                "first time on a phone: open %s to install the certificate",
                ", ".join(self.setup_urls()),
            )

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        if self._runners:
            WEB.info("server stopped")
        self._runners.clear()

    @property
    def live_connections(self) -> int:
        return self.app[LIVE_EVENTS].connected

    @property
    def live_devices(self) -> int:
        return self.app[LIVE_EVENTS].devices_connected

    def urls(self) -> list[str]:
        """The addresses to open on a phone, the LAN ones first."""
        scheme = "https" if self.ssl_context else "http"
        hosts = _reachable_hosts(self.options.host)
        return [f"{scheme}://{_bracket(host)}:{self.port}/" for host in hosts]

    def setup_urls(self) -> list[str]:
        """Plain-HTTP addresses of the certificate set-up page (HTTPS mode)."""
        if self.helper_port is None:
            return []
        hosts = _reachable_hosts(self.options.host)
        return [f"http://{_bracket(host)}:{self.helper_port}/" for host in hosts]

    async def _serve(
        self, app: web.Application, port: int, context: ssl.SSLContext | None
    ) -> web.AppRunner:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, port, ssl_context=context)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            await self.stop()
            raise StartupError(_bind_error(self.options.host, port, exc)) from exc
        self._runners.append(runner)
        return runner


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


def _bind_error(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Port {port} is already in use on {host}; "
            "stop the other program or choose another port with --port "
            "(or --http-port for the set-up page)."
        )
    if exc.errno == errno.EACCES:
        return (
            f"Not allowed to listen on {where}; choose a port above 1023 with --port."
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; check --host."
    return f"Cannot listen on {where}: {exc.strerror or exc}."


def _reachable_hosts(bind_host: str) -> list[str]:
    if bind_host not in ("0.0.0.0", "::", ""):
        return [bind_host]

    lan: list[str] = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith(
                "127."
            ):
                lan.append(address.address)
    return [*sorted(set(lan)), "localhost"]


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
