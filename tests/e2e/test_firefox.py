"""A real Firefox, subscribed through pushdesk's page, receives a reminder it
decrypts itself: end to end with real encryption, over our own push service."""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config
from pushdesk.store.receipts import Reach
from tests.support.autopush import AutopushDouble

pytestmark = pytest.mark.e2e

PREFERENCES = """
user_pref("dom.push.serverURL", "{server}");
user_pref("dom.push.testing.allowInsecureServerURL", true);
user_pref("permissions.default.desktop-notification", 1);
user_pref("alerts.useSystemBackend", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.disabledForTesting", true);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("extensions.update.enabled", false);
"""


def firefox_path() -> str:
    found = os.environ.get("FIREFOX") or shutil.which("firefox-esr")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("Firefox is not installed; .ci/run should have installed it")
    pytest.skip("Firefox is not installed (Debian: apt-get install firefox-esr)")


@pytest_asyncio.fixture
async def autopush() -> AsyncIterator[AutopushDouble]:
    double = AutopushDouble()
    await double.start()
    yield double
    await double.stop()


@pytest_asyncio.fixture
async def pushdesk(config: Config, autopush: AutopushDouble) -> AsyncIterator[Runtime]:
    options = replace(config.server, allowed_push_origins=(autopush.origin,))
    runtime = Runtime(replace(config, server=options), open_store(config))
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest_asyncio.fixture
async def firefox(
    pushdesk: Runtime, autopush: AutopushDouble, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    executable = firefox_path()
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "user.js").write_text(PREFERENCES.format(server=autopush.websocket_url))
    assert pushdesk.server is not None
    page = f"http://localhost:{pushdesk.server.port}/"
    process = await asyncio.create_subprocess_exec(
        executable,
        "--headless",
        "--no-remote",
        "--profile",
        str(profile),
        autopush.launch_url(page),
        env=os.environ | {"HOME": str(tmp_path), "MOZ_CRASHREPORTER_DISABLE": "1"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    yield process
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout=20)
    except TimeoutError:
        process.kill()
        await process.wait()


def reach(runtime: Runtime, reminder_id: int) -> Reach:
    return runtime.services.reminders.reach().get(reminder_id, Reach())


async def until(condition: Callable[[], bool], seconds: float) -> None:
    """Wait for what Firefox does in its own time, within a bound."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "Firefox never did it"
        await asyncio.sleep(0.1)


async def test_firefox_decrypts_and_shows_a_reminder_and_reports_it(
    pushdesk: Runtime, autopush: AutopushDouble, firefox: asyncio.subprocess.Process
) -> None:
    await until(lambda: bool(pushdesk.store.subscriptions.all()), seconds=90)
    [device] = pushdesk.store.subscriptions.all()
    assert device.endpoint.startswith(autopush.origin)

    reminder = pushdesk.services.reminders.schedule(
        "Kitchen", "Soup is ready", None, pushdesk.clock()
    )
    [ack] = await autopush.wait_for_ack(1, seconds=60)

    assert ack.code == 100
    await until(
        lambda: reach(pushdesk, reminder.id).displayed == 1,
        seconds=30,
    )


async def test_a_message_changed_on_the_way_is_refused_by_firefox(
    pushdesk: Runtime, autopush: AutopushDouble, firefox: asyncio.subprocess.Process
) -> None:
    await until(lambda: bool(pushdesk.store.subscriptions.all()), seconds=90)
    autopush.flip_a_bit = True

    reminder = pushdesk.services.reminders.schedule(
        "Kitchen", "Tampered", None, pushdesk.clock()
    )
    [ack] = await autopush.wait_for_ack(1, seconds=60)

    assert ack.code == 101
    assert reach(pushdesk, reminder.id).displayed == 0
