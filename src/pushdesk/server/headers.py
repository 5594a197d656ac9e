"""Headers on every response: what the page may load and who may frame it.

Nothing here grants CORS: other origins get no Access-Control-Allow-* header
from pushdesk, so their scripts can neither read its answers nor send it JSON.
"""

from aiohttp import web

# The page, its worker and the set-up page load only their own files. A
# WebSocket to the same host and port counts as 'self' (CSP level 3; Safari
# since 15.4, before any iPhone could receive web push).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _add_security_headers(
    _request: web.Request, response: web.StreamResponse
) -> None:
    response.headers.update(SECURITY_HEADERS)


def add_security_headers(app: web.Application) -> None:
    """Every response ``app`` sends, errors and static files included,
    carries the security headers."""
    # FIXME:web but not the 400 aiohttp's parser sends for a request it cannot
    # read (bad framing, a URL or header over 8 KB): that plain-text answer
    # is written before any application hook runs (tests/server/test_hostile).
    app.on_response_prepare.append(_add_security_headers)
