"""Security headers on every response, and no CORS for anyone."""

from collections.abc import AsyncIterator
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

PUBLIC_KEY = "B" + "A" * 86

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


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/app.js",
        "/app.css",
        "/sw.js",
        "/manifest.webmanifest",
        "/icons/icon-192.png",
        "/api/health",
        "/api/vapid-public-key",
        "/api/nowhere",
        "/nowhere",
    ],
)
async def test_the_page_its_files_and_the_api_carry_the_headers(
    client: Client, path: str
) -> None:
    response = await client.get(path, headers={"Origin": "http://evil.example"})

    assert_secured(response)


async def test_refused_requests_carry_the_headers_too(client: Client) -> None:
    answers = [
        await client.post("/api/subscriptions", data=b"{", headers={"X": "y"}),
        await client.post(
            "/api/subscriptions",
            data=b" " * 100_000,
            headers={"Content-Type": "application/json"},
        ),
        await client.put("/api/subscriptions"),
        await client.get("/api/events", headers={"Origin": "http://evil.example"}),
    ]

    assert [a.status for a in answers] == [415, 413, 405, 403]
    for answer in answers:
        assert_secured(answer)


@pytest.mark.parametrize(
    "path", ["/", "/onboarding.css", "/pushdesk-ca.crt", "/pushdesk-ca.cer", "/app"]
)
async def test_the_set_up_page_carries_the_headers(
    setup_page: Client, path: str
) -> None:
    response = await setup_page.get(path, allow_redirects=False)

    assert response.status in (200, 308)
    assert_secured(response)


async def test_a_cross_origin_preflight_is_given_no_permission(client: Client) -> None:
    response = await client.options(
        "/api/subscriptions",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status >= 400
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
