"""A real Firefox, subscribed through pushdesk's page, sets a reminder for
itself with the page's form and receives it as a push it decrypts and shows.

The set-up is test_firefox.py's (Firefox's own push client talking to the
loopback autopush double); Firefox is also started with WebDriver BiDi so the
test can type and press as a visitor does.
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config
from tests.e2e.test_firefox import PREFERENCES, firefox_path, reach, until
from tests.e2e.test_firefox import autopush as autopush  # the fixture, shared
from tests.support.autopush import AutopushDouble
from tests.support.bidi import FirefoxTab
from tests.support.clock import FakeClock

pytestmark = pytest.mark.e2e

# Being driven makes Firefox apply "recommended" preferences for automation,
# and one of them turns its push client off.
DRIVEN_PREFERENCES = """
user_pref("remote.prefs.recommended", false);
user_pref("dom.push.connection.enabled", true);
"""

SHOWN_NOTIFICATIONS = """
(async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return JSON.stringify(shown.map(n => [n.title, n.body]));
})()
"""


@pytest.fixture
def clock() -> FakeClock:
    # Firefox's own clock shows the real time; the test's starts there too.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest_asyncio.fixture
async def pushdesk(
    config: Config, autopush: AutopushDouble, clock: FakeClock
) -> AsyncIterator[Runtime]:
    options = replace(config.server, allowed_push_origins=(autopush.origin,))
    runtime = Runtime(replace(config, server=options), open_store(config), clock=clock)
    await runtime.start()
    yield runtime
    await runtime.stop()


def page_url(runtime: Runtime) -> str:
    assert runtime.server is not None
    return f"http://localhost:{runtime.server.port}/"


@pytest_asyncio.fixture
async def firefox_tab(
    pushdesk: Runtime, autopush: AutopushDouble, tmp_path: Path
) -> AsyncIterator[FirefoxTab]:
    """A Firefox that has opened pushdesk's page, driven over WebDriver BiDi."""
    executable = firefox_path()
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "user.js").write_text(
        PREFERENCES.format(server=autopush.websocket_url) + DRIVEN_PREFERENCES
    )
    process = await asyncio.create_subprocess_exec(
        executable,
        "--headless",
        "--no-remote",
        "--profile",
        str(profile),
        "--remote-debugging-port=0",
        autopush.launch_url(page_url(pushdesk)),
        env=os.environ | {"HOME": str(tmp_path), "MOZ_CRASHREPORTER_DISABLE": "1"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        # Firefox writes the port it chose here once it listens.
        announced = profile / "WebDriverBiDiServer.json"
        await until(announced.exists, seconds=60)
        await until(lambda: bool(announced.read_text().strip()), seconds=10)
        port = json.loads(announced.read_text())["ws_port"]
        async with FirefoxTab.open(port, page_url(pushdesk)) as tab:
            yield tab
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_a_reminder_set_from_the_page_in_firefox_arrives_there_as_a_push(
    pushdesk: Runtime,
    autopush: AutopushDouble,
    firefox_tab: FirefoxTab,
    clock: FakeClock,
) -> None:
    await until(lambda: bool(pushdesk.store.subscriptions.all()), seconds=90)
    [device] = pushdesk.store.subscriptions.all()
    await firefox_tab.wait_for("document.body.dataset.remind === 'ready'")

    await firefox_tab.type("#remind-message", "Take the soup off the stove")
    await firefox_tab.click("input[name='when'][value='5']")
    await firefox_tab.click("#remind-set")
    await firefox_tab.wait_for("document.body.dataset.remindCount === '1'")

    [reminder] = pushdesk.services.reminders.all()
    assert reminder.message == "Take the soup off the stove"
    assert reminder.visitor_device == device.id
    assert reminder.due_at == clock.now + timedelta(minutes=5)

    clock.advance(minutes=5)
    assert pushdesk.scheduler is not None
    pushdesk.scheduler.wake()
    [ack] = await autopush.wait_for_ack(1, seconds=60)

    assert ack.code == 100
    await until(lambda: reach(pushdesk, reminder.id).displayed == 1, seconds=30)
    shown = json.loads(await firefox_tab.evaluate(SHOWN_NOTIFICATIONS))
    assert shown == [["Reminder", "Take the soup off the stove"]]
    # The page's list heard that it went out.
    await firefox_tab.wait_for("document.body.dataset.remindCount === '0'")
