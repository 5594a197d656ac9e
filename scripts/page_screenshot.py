"""Take the README's screenshot of the subscription page on a phone
(docs/page-remind-me.png): the real server and page in Chromium, subscribed,
with two waiting reminders of the visitor's and one reminder sent to it.

Chromium's own push service is out of reach, so, as in the browser tests, its
PushManager hands out a subscription made by the loopback push-service double
(which needs the test install: ``./run-tests`` makes it).

    .venv/bin/python -m scripts.page_screenshot docs
"""

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright
from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    chromium_path,
    live_as,
    open_page,
    state,
)
from tests.e2e.test_page_self_reminders import set_reminder
from tests.support.push_service import PushServiceDouble

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config, ServerOptions

PHONE = {"width": 390, "height": 1317}


async def main(folder: Path) -> None:
    async with PushServiceDouble() as push_service:
        with tempfile.TemporaryDirectory() as data:
            config = Config(
                data_dir=Path(data),
                server=ServerOptions(
                    host="127.0.0.1",
                    port=0,
                    http=True,
                    allowed_push_origins=(push_service.origin,),
                ),
                vapid_subject="mailto:ops@example.org",
            )
            runtime = Runtime(config, open_store(config))
            await runtime.start()
            try:
                await _shoot(runtime, push_service, folder / "page-remind-me.png")
            finally:
                await runtime.stop()


async def _shoot(runtime: Runtime, push_service: PushServiceDouble, png: Path) -> None:
    assert runtime.server is not None
    origin = f"http://localhost:{runtime.server.port}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
        )
        await context.grant_permissions(["notifications"], origin=origin)
        page = await open_page(context, runtime, push_service.new_subscription())
        await state(page, "subscribed")
        [device] = runtime.store.subscriptions.all()
        runtime.services.subscriptions.rename(device.id, "Anna’s phone")
        await page.fill("#label", "Anna’s phone")
        await live_as(page, device.id)

        runtime.services.reminders.schedule(
            "Kitchen", "Lunch is served in the canteen", None, runtime.clock()
        )
        await page.locator("#events li").wait_for(timeout=10_000)
        for message, choice in [
            ("Take the bread out of the oven", "15"),
            ("Call the plumber about the kitchen tap", "60"),
        ]:
            await set_reminder(page, runtime, message, choice)

        await page.screenshot(path=str(png), full_page=True)
        await browser.close()
    print(f"wrote {png}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
