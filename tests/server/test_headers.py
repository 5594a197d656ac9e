"""Security headers on every response, and no CORS for anyone."""

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import async_playwright

from pushdesk.server.app import create_app
from pushdesk.server.onboarding import create_onboarding_app
from pushdesk.server.tls import LocalCA
from pushdesk.services import Services
from tests.support.clock import FakeClock
from tests.support.keys import AUTH

PUBLIC_KEY = "B" + "A" * 86
SUBJECT = "mailto:ops@example.org"
JSON = {"Content-Type": "application/json"}

Client = TestClient[Any, Any]

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    app = create_app(services, PUBLIC_KEY)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def setup_page(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Client]:
    ca = LocalCA(tmp_path / "tls", clock)
    app = create_onboarding_app(ca, lambda: 8443, ["127.0.0.1", "localhost"])
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


def policy_of(response: aiohttp.ClientResponse) -> dict[str, str]:
    text = response.headers["Content-Security-Policy"]
    directives = (part.strip().partition(" ") for part in text.split(";"))
    return {name: value for name, _, value in directives}


def assert_secured(response: aiohttp.ClientResponse) -> None:
    assert policy_of(response) == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert not [h for h in response.headers if h.lower().startswith("access-control")]


PAGE_FILES = [
    "/",
    "/app.js",
    "/app.css",
    "/sw.js",
    "/manifest.webmanifest",
    "/icons/icon-192.png",
]
API_READS = ["/api/health", "/api/vapid-public-key"]
WRITES = ["/api/subscriptions", "/api/receipts", "/api/test-notification"]

WEBSOCKET_HANDSHAKE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


@pytest.mark.parametrize("path", [*PAGE_FILES, *API_READS, "/api/nowhere", "/nowhere"])
async def test_the_page_its_files_and_the_api_carry_the_headers(
    client: Client, path: str
) -> None:
    response = await client.get(path, headers={"Origin": "http://evil.example"})

    assert_secured(response)


async def test_refused_requests_carry_the_headers_too(
    client: Client, services: Services
) -> None:
    services.settings.save(
        replace(services.settings.current(), vapid_subject=SUBJECT, tests_per_minute=1)
    )
    proof = {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "auth": AUTH}
    answers = [
        await client.post("/api/subscriptions", data=b"{", headers={"X": "y"}),
        await client.post(
            "/api/subscriptions",
            data=b" " * 100_000,
            headers={"Content-Type": "application/json"},
        ),
        await client.put("/api/subscriptions"),
        await client.get("/api/events", headers={"Origin": "http://evil.example"}),
        await client.post("/api/subscriptions", data=b"{", headers=JSON),
        await client.post("/api/test-notification", json=proof),
        await client.post("/api/test-notification", json=proof),
        await client.get("/icons/..%2f..%2fapp.py"),
        await client.get("/icons/" + "a" * 300),
        await client.post("/", data=b"x"),
    ]

    assert [a.status for a in answers] == [
        415,
        413,
        405,
        403,
        400,
        403,
        429,
        404,
        404,
        405,
    ]
    for answer in answers:
        assert_secured(answer)


@pytest.mark.parametrize("path", PAGE_FILES + API_READS)
async def test_head_answers_as_get_does_without_a_body(
    client: Client, path: str
) -> None:
    got = await client.get(path)
    head = await client.head(path)

    assert (head.status, head.content_type) == (got.status, got.content_type)
    assert await head.read() == b""
    assert_secured(head)


async def test_head_on_live_events_is_refused_rather_than_upgraded(
    client: Client,
) -> None:
    response = await client.head("/api/events", headers=WEBSOCKET_HANDSHAKE)

    assert response.status == 405
    assert "Upgrade" not in response.headers
    assert_secured(response)


@pytest.mark.parametrize(
    "path", ["/", "/onboarding.css", "/pushdesk-ca.crt", "/pushdesk-ca.cer", "/app"]
)
async def test_the_set_up_page_carries_the_headers(
    setup_page: Client, path: str
) -> None:
    response = await setup_page.get(path, allow_redirects=False)

    assert response.status in (200, 308)
    assert_secured(response)


PREFLIGHT = {
    "Origin": "http://evil.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


@pytest.mark.parametrize("path", [*PAGE_FILES, *API_READS, *WRITES, "/api/events"])
async def test_a_cross_origin_preflight_is_given_no_permission(
    client: Client, path: str
) -> None:
    response = await client.options(path, headers=PREFLIGHT)

    assert response.status >= 400
    assert_secured(response)


@pytest.mark.parametrize("path", WRITES)
async def test_a_cross_origin_post_is_answered_without_cors(
    client: Client, path: str
) -> None:
    response = await client.post(
        path, json={}, headers={"Origin": "http://evil.example"}
    )

    assert response.status == 400
    assert_secured(response)


@pytest.mark.parametrize("path", ["/", "/pushdesk-ca.crt", "/api/subscriptions"])
async def test_the_set_up_page_grants_no_cors_either(
    setup_page: Client, path: str
) -> None:
    preflight = await setup_page.options(path, headers=PREFLIGHT, allow_redirects=False)
    read = await setup_page.get(
        path, headers={"Origin": "http://evil.example"}, allow_redirects=False
    )

    for response in (preflight, read):
        assert_secured(response)


async def test_the_pages_policy_allows_no_inline_code_and_talks_only_to_itself(
    client: Client,
) -> None:
    """The rules the policy must keep, whatever else changes in it: no inline
    script or style, no eval, nothing loaded or connected to elsewhere.
    'self' in connect-src covers ws: and wss: to the page's own host and port
    (CSP level 3), which the live events use."""
    policy = policy_of(await client.get("/"))

    assert "unsafe" not in " ".join(policy.values())
    assert policy["default-src"] in ("'self'", "'none'")
    for directive in ("script-src", "style-src", "connect-src", "worker-src"):
        assert policy[directive] == "'self'", directive
    assert policy["frame-ancestors"] == "'none'"


async def test_a_websocket_from_another_origin_is_refused_in_json_before_the_upgrade(
    client: Client,
) -> None:
    response = await client.get(
        "/api/events",
        headers=WEBSOCKET_HANDSHAKE | {"Origin": "http://evil.example"},
    )

    assert response.status == 403
    assert "Upgrade" not in response.headers
    assert set(await response.json()) == {"error", "field"}
    assert_secured(response)


@pytest.mark.e2e
async def test_the_page_runs_in_chromium_without_breaking_its_policy(
    client: Client,
) -> None:
    """Scripts, styles, icons, manifest, worker and WebSocket all load under
    the policy; any of them blocked would be reported as a violation."""
    from tests.e2e.test_browser import CHROMIUM_ARGS, chromium_path

    url = f"http://localhost:{client.server.port}/"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.add_init_script(
                "window.__violations = [];"
                "document.addEventListener('securitypolicyviolation', (e) =>"
                "  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))

            await page.goto(url)
            await page.wait_for_selector("body[data-events='open']", timeout=10_000)
            await page.wait_for_selector("body[data-state='ready']", timeout=10_000)
            cdp = await page.context.new_cdp_session(page)
            manifest = await cdp.send("Page.getAppManifest")
            styled = await page.evaluate(
                "getComputedStyle(document.querySelector('.masthead')).display"
            )
            icon_loaded = await page.evaluate(
                "document.querySelector('img.logo').naturalWidth > 0"
            )
            violations = await page.evaluate("window.__violations")
        finally:
            await browser.close()

    assert violations == []
    assert not [m for m in console if "Content Security Policy" in m]
    assert manifest["errors"] == []
    assert '"short_name": "pushdesk"' in manifest["data"]
    assert styled == "flex"
    assert icon_loaded
