"""The plain-HTTP port beside HTTPS: what a phone needs before it trusts us.

It serves a page explaining, per platform, how to install pushdesk's CA
certificate, the certificate itself, and a redirect to HTTPS for everything
else. Nothing here touches data: it is safe on an untrusted connection.
"""

import html
import re
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from string import Template

from aiohttp import web
from cryptography.hazmat.primitives import hashes

from pushdesk.resources import web_dir
from pushdesk.server.headers import add_security_headers
from pushdesk.server.tls import LocalCA

# Host header values we are willing to echo back in links and redirects.
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})$")


def create_onboarding_app(
    ca: LocalCA | None,
    https_port: Callable[[], int],
    known_hosts: Iterable[str] = (),
    web_root: Path | None = None,
) -> web.Application:
    """``known_hosts``: this machine's names and addresses. A redirect keeps
    the host the phone used only if it is one of them, so the page cannot be
    made to send visitors elsewhere with a forged Host header."""
    hosts = {h.lower() for h in known_hosts}
    fallback = next((h for h in sorted(hosts) if h != "localhost"), "localhost")
    root = web_root or web_dir()
    page = Template((root / "onboarding.html").read_text(encoding="utf-8"))
    app = web.Application(client_max_size=1024)
    add_security_headers(app)

    def https_url(request: web.Request) -> str:
        """The same host the phone used, on the HTTPS port."""
        try:
            host = request.url.host or "localhost"
        except ValueError:
            host = "localhost"
        if hosts and host.lower() not in hosts:
            host = fallback
        if ":" in host:
            host = f"[{host}]"
        if not _HOST.match(host):
            host = "localhost"
        return f"https://{host}:{https_port()}"

    async def instructions(request: web.Request) -> web.StreamResponse:
        if ca is None:
            # The operator's own certificate is trusted already: go straight on.
            raise web.HTTPPermanentRedirect(https_url(request) + "/")
        text = page.substitute(
            https_url=html.escape(https_url(request) + "/"),
            fingerprint=html.escape(_fingerprint(ca)),
        )
        return web.Response(text=text, content_type="text/html")

    def certificate(
        encode: Callable[[LocalCA], bytes], media_type: str, filename: str
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def download(_request: web.Request) -> web.Response:
            if ca is None:
                raise web.HTTPNotFound()
            return web.Response(
                body=encode(ca),
                content_type=media_type,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )

        return download

    async def onboarding_css(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(root / "onboarding.css")

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(https_url(request) + request.path_qs)

    app.router.add_get("/", instructions)
    # PEM for Android, iOS and Linux; DER for Windows and macOS.
    app.router.add_get(
        "/pushdesk-ca.crt",
        certificate(LocalCA.pem, "application/x-x509-ca-cert", "pushdesk-ca.crt"),
    )
    app.router.add_get(
        "/pushdesk-ca.cer",
        certificate(LocalCA.der, "application/pkix-cert", "pushdesk-ca.cer"),
    )
    app.router.add_get("/onboarding.css", onboarding_css)
    app.router.add_route("*", "/{tail:.*}", elsewhere)
    return app


def _fingerprint(ca: LocalCA) -> str:
    digest = ca.certificate.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
