"""The page's "Remind me" section in a real Chromium: a visitor sets reminders
for this device, sees them listed, cancels them, and sees them leave the list
when the real scheduler and delivery engine send them.

The browser runs in India's time zone (UTC+5:30, no daylight saving time), so
every time the page shows or reads is visibly converted from and to UTC.
"""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
)

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config
from pushdesk.domain import Reminder, ReminderStatus
from tests.e2e.test_browser import browser as browser  # the fixture, shared
from tests.e2e.test_browser import live_as, open_page, page_url, state, until
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Kolkata")
TURNED_OFF = "Reminders from the page are turned off here."


@pytest.fixture
def clock() -> FakeClock:
    # Starts at the real time, which the browser's clock shows too, so the
    # times the page offers and those the server accepts agree.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest_asyncio.fixture
async def runtime(config: Config, clock: FakeClock) -> AsyncIterator[Runtime]:
    """pushdesk's real server, scheduler and delivery engine on the test's clock."""
    running = Runtime(config, open_store(config), clock=clock)
    await running.start()
    yield running
    await running.stop()


@pytest_asyncio.fixture
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(timezone_id=ZONE.key, locale="en-GB")
    yield context
    await context.close()


@pytest_asyncio.fixture
async def page(
    runtime: Runtime, browser_context: BrowserContext, push_service: PushServiceDouble
) -> Page:
    """The page on a device that allowed notifications earlier: it subscribes
    as it opens, and its "Remind me" section is ready."""
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    opened = await open_page(browser_context, runtime, push_service.new_subscription())
    await state(opened, "subscribed")
    await remind_state(opened, "ready")
    return opened


async def remind_state(page: Page, expected: str) -> None:
    await page.wait_for_selector(f"body[data-remind='{expected}']", timeout=15_000)


async def listed_count(page: Page, count: int) -> None:
    await page.wait_for_selector(f"body[data-remind-count='{count}']", timeout=10_000)


def change_settings(runtime: Runtime, **changes: Any) -> None:
    settings = runtime.services.settings
    settings.save(replace(settings.current(), **changes))


async def fill_form(page: Page, message: str, choice: str = "5") -> None:
    await page.fill("#remind-message", message)
    await page.check(f"input[name='when'][value='{choice}']")


async def set_reminder(
    page: Page, runtime: Runtime, message: str, choice: str = "5"
) -> Reminder:
    """Fill the form, press the button, wait for the list to show one more;
    the reminder the server stored."""
    before = int(await page.get_attribute("body", "data-remind-count") or "0")
    await fill_form(page, message, choice)
    await page.click("#remind-set")
    await listed_count(page, before + 1)
    return max(runtime.services.reminders.all(), key=lambda reminder: reminder.id)


def item(page: Page, reminder: Reminder) -> Locator:
    return page.locator(f"#pending li[data-id='{reminder.id}']")


def shown_time(moment: datetime, now: datetime) -> str:
    """What the page writes for a time: "17:30" today, "Tomorrow 17:30"."""
    local, today = moment.astimezone(ZONE), now.astimezone(ZONE)
    time = local.strftime("%H:%M")
    if local.date() == today.date():
        return time
    assert local.date() == today.date() + timedelta(days=1), "tests keep within a day"
    return f"Tomorrow {time}"


async def local_attribute(page: Page, selector: str, name: str) -> datetime:
    """A datetime-local attribute (the browser's local time) as a moment."""
    value = await page.get_attribute(selector, name)
    assert value is not None, f"{selector} has no {name}"
    return datetime.fromisoformat(value).replace(tzinfo=ZONE).astimezone(UTC)


def device_id(runtime: Runtime) -> int:
    [device] = runtime.store.subscriptions.all()
    return device.id


async def test_the_section_shows_once_subscribed_and_hides_when_turned_off(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await state(page, "ready")
    assert await page.is_hidden("#remind")
    assert await page.get_attribute("body", "data-remind") == "hidden"

    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    await page.click("#enable")
    await remind_state(page, "ready")

    assert await page.is_visible("#remind-form")
    assert await page.is_visible("#pending-empty")
    await page.click("#disable")
    await remind_state(page, "hidden")
    assert await page.is_hidden("#remind")


async def test_a_quick_choice_sets_a_reminder_listed_with_its_local_time(
    runtime: Runtime, page: Page, clock: FakeClock
) -> None:
    reminder = await set_reminder(page, runtime, "Check the oven", choice="15")

    assert reminder.message == "Check the oven"
    assert reminder.visitor_device == device_id(runtime)
    assert reminder.due_at == clock.now + timedelta(minutes=15)
    assert reminder.status is ReminderStatus.SCHEDULED
    shown = item(page, reminder)
    assert await shown.locator(".pending-message").inner_text() == "Check the oven"
    assert await shown.locator(".pending-time").inner_text() == shown_time(
        reminder.due_at, clock.now
    )
    assert await shown.locator(".pending-relative").inner_text() == "in 15 min"
    assert "Set for" in await page.inner_text("#remind-note")
    assert await page.input_value("#remind-message") == ""


async def test_a_custom_time_is_read_as_the_devices_local_time(
    runtime: Runtime, page: Page, clock: FakeClock
) -> None:
    wanted = (clock.now + timedelta(hours=2)).replace(second=0).astimezone(ZONE)

    await page.check("input[name='when'][value='custom']")
    await page.fill("#remind-at", wanted.strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#remind-message", "Call the plumber")
    await page.click("#remind-set")
    await listed_count(page, 1)

    [reminder] = runtime.services.reminders.all()
    assert reminder.due_at == wanted.astimezone(UTC)
    shown = item(page, reminder)
    assert await shown.locator(".pending-time").inner_text() == shown_time(
        wanted, clock.now
    )
    assert await shown.locator(".pending-relative").inner_text() in (
        "in 2 h",
        "in 1 h 59 min",
    )


async def test_the_list_is_soonest_first(runtime: Runtime, page: Page) -> None:
    later = await set_reminder(page, runtime, "Later", choice="60")
    sooner = await set_reminder(page, runtime, "Sooner", choice="5")

    ids = await page.eval_on_selector_all(
        "#pending li", "items => items.map(item => Number(item.dataset.id))"
    )
    assert ids == [sooner.id, later.id]


async def test_cancel_from_the_page_cancels_that_reminder_only(
    runtime: Runtime, page: Page
) -> None:
    keep = await set_reminder(page, runtime, "Keep me", choice="60")
    drop = await set_reminder(page, runtime, "Drop me", choice="15")

    await item(page, drop).get_by_role("button").click()
    await listed_count(page, 1)

    assert runtime.services.reminders.get(drop.id).status is ReminderStatus.CANCELLED
    assert runtime.services.reminders.get(keep.id).status is ReminderStatus.SCHEDULED
    assert await item(page, keep).count() == 1


async def test_a_sent_reminder_leaves_the_list_without_a_reload(
    runtime: Runtime, page: Page, clock: FakeClock, push_service: PushServiceDouble
) -> None:
    soon = await set_reminder(page, runtime, "Tea is ready", choice="5")
    later = await set_reminder(page, runtime, "Walk the dog", choice="60")
    await live_as(page, device_id(runtime))
    await page.evaluate("window.__sameDocument = true")

    clock.advance(minutes=5)
    assert runtime.scheduler is not None
    runtime.scheduler.wake()
    [push] = await push_service.wait_for(1, timeout=10)
    await item(page, soon).wait_for(state="detached", timeout=10_000)

    assert push.json()["body"] == "Tea is ready"
    assert runtime.services.reminders.get(soon.id).status is ReminderStatus.SENT
    assert await page.evaluate("window.__sameDocument") is True
    assert await item(page, later).count() == 1
    assert await page.get_attribute("body", "data-remind-count") == "1"


async def test_another_devices_sent_reminder_leaves_this_list_alone(
    runtime: Runtime, page: Page
) -> None:
    from pushdesk.events import ReminderSent

    mine = await set_reminder(page, runtime, "Mine", choice="5")
    await live_as(page, device_id(runtime))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    own = device_id(runtime)

    for reminder, device in [(9999, own + 1), (mine.id, own)]:
        runtime.hub.publish(
            ReminderSent(
                reminder,
                runtime.clock(),
                "Reminder",
                "",
                1,
                1,
                device,
                frozenset({device}),
            )
        )
    await until(lambda: any(url.endswith("/list") for url in asked))

    # Only the event for this device asked for the list again.
    assert [url for url in asked if "/api/" in url] == [
        page_url(runtime) + "/api/self-reminders/list"
    ]


async def test_a_message_with_html_is_shown_as_text(
    runtime: Runtime, page: Page
) -> None:
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    html = "<img src=x onerror=alert(1)><b>bold</b>"

    reminder = await set_reminder(page, runtime, html)

    shown = item(page, reminder)
    assert await shown.locator(".pending-message").inner_text() == html
    assert await page.locator("#remind img, #remind b").count() == 0
    assert dialogs == []


async def test_the_form_keeps_to_the_operators_limits(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
    clock: FakeClock,
) -> None:
    change_settings(
        runtime,
        visitor_min_delay_minutes=10,
        visitor_max_delay_days=2,
        visitor_message_length=40,
    )
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await remind_state(page, "ready")

    assert await page.get_attribute("#remind-message", "maxlength") == "40"
    assert await page.is_disabled("input[name='when'][value='5']")
    assert await page.is_checked("input[name='when'][value='15']")
    await page.check("input[name='when'][value='custom']")
    earliest = await local_attribute(page, "#remind-at", "min")
    latest = await local_attribute(page, "#remind-at", "max")

    # The field holds whole minutes, and the browser's clock has run on a
    # little since the test's clock started.
    shortest, longest = earliest - clock.now, latest - clock.now
    assert timedelta(minutes=10) <= shortest <= timedelta(minutes=12)
    assert timedelta(days=2, minutes=-1) <= longest <= timedelta(days=2, minutes=1)


async def test_an_empty_message_is_explained_without_asking_the_server(
    runtime: Runtime, page: Page
) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    await page.click("#remind-set")

    assert await page.inner_text("#remind-error") == (
        "Write what you want to be reminded of."
    )
    assert await page.get_attribute("#remind-message", "aria-invalid") == "true"
    assert asked == []


async def press_set_and_read_the_refusal(page: Page) -> tuple[int, dict[str, Any]]:
    """Press "Set reminder"; the status and JSON of the server's refusal, once
    the page shows a sentence next to the form."""
    async with page.expect_response("**/api/self-reminders") as answered:
        await page.click("#remind-set")
    answer = await answered.value
    await page.wait_for_selector("#remind-error:not([hidden])", timeout=10_000)
    return answer.status, await answer.json()


async def test_a_time_too_soon_gets_the_servers_sentence_by_the_time_field(
    runtime: Runtime, page: Page, clock: FakeClock
) -> None:
    too_soon = clock.now.astimezone(ZONE) - timedelta(minutes=5)

    await page.fill("#remind-message", "Yesterday's news")
    await page.check("input[name='when'][value='custom']")
    await page.fill("#remind-at", too_soon.strftime("%Y-%m-%dT%H:%M"))
    status, refusal = await press_set_and_read_the_refusal(page)

    assert (status, refusal["field"]) == (400, "at")
    assert await page.inner_text("#remind-error") == refusal["error"]
    assert await page.get_attribute("#remind-error", "data-field") == "at"
    assert await page.get_attribute("#remind-at", "aria-invalid") == "true"
    assert runtime.services.reminders.all() == []


async def test_too_many_waiting_is_explained_and_the_form_stays(
    runtime: Runtime, page: Page
) -> None:
    change_settings(runtime, visitor_pending_per_device=1)
    await set_reminder(page, runtime, "The one allowed")

    await fill_form(page, "One too many")
    status, refusal = await press_set_and_read_the_refusal(page)

    assert (status, refusal["field"]) == (403, None)
    assert await page.inner_text("#remind-error") == refusal["error"]
    # The form stays: the list, asked again, shows the feature is still on.
    await remind_state(page, "ready")
    assert await page.is_visible("#remind-form")
    assert len(runtime.services.reminders.all()) == 1


async def test_asking_too_often_is_explained(runtime: Runtime, page: Page) -> None:
    # The page has asked for its list once; a create and its reload are two more.
    change_settings(runtime, visitor_requests_per_minute=3)
    await set_reminder(page, runtime, "Allowed")

    await fill_form(page, "Refused")
    status, refusal = await press_set_and_read_the_refusal(page)

    assert status == 429
    assert await page.inner_text("#remind-error") == refusal["error"]
    assert len(runtime.services.reminders.all()) == 1


async def test_turned_off_by_the_operator_the_page_says_so_when_shown_again(
    runtime: Runtime, page: Page
) -> None:
    change_settings(runtime, visitor_reminders=False)

    # As when the visitor comes back to the tab.
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await remind_state(page, "off")

    assert await page.inner_text("#remind-off") == TURNED_OFF
    assert await page.is_hidden("#remind-form")
    assert await page.is_hidden("#pending-part")


async def test_turned_off_while_the_form_is_open_a_press_says_so(
    runtime: Runtime, page: Page
) -> None:
    change_settings(runtime, visitor_reminders=False)

    await fill_form(page, "Too late")
    await page.click("#remind-set")
    await remind_state(page, "off")

    assert await page.inner_text("#remind-off") == TURNED_OFF
    assert await page.is_hidden("#remind-form")
    assert runtime.services.reminders.all() == []


async def test_a_page_opened_while_turned_off_shows_the_sentence_only(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    change_settings(runtime, visitor_reminders=False)
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))

    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await remind_state(page, "off")

    assert await page.is_visible("#remind-off")
    assert await page.inner_text("#remind-off") == TURNED_OFF
    assert await page.is_hidden("#remind-form")


async def test_setting_and_cancelling_breaks_no_page_rule(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    # Added before the page's own scripts run, so nothing is missed.
    await browser_context.add_init_script(
        """
        window.__violations = [];
        document.addEventListener('securitypolicyviolation',
            event => window.__violations.push(event.violatedDirective));
        """
    )
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    browser_context.on("console", on_console)
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await remind_state(page, "ready")

    reminder = await set_reminder(page, runtime, "Water the plants")
    await item(page, reminder).get_by_role("button").click()
    await listed_count(page, 0)

    assert await page.evaluate("window.__violations") == []
    assert errors == []
