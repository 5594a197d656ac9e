"""Take the README's screenshots from the real app with made-up data.

Run by scripts/screenshot.sh under Xvfb. The runtime starts as the desktop app
starts it (HTTPS with pushdesk's own CA, on ports of its own); the devices are
made up and nothing is due while it runs, so nothing is sent anywhere.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots.py docs
"""

import asyncio
import base64
import os
import sys
import tempfile
from datetime import timedelta
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config, ServerOptions
from pushdesk.domain import (
    Delivered,
    Failed,
    Gone,
    ReminderDraft,
    ReminderStatus,
    SubscriptionInput,
    Target,
)
from pushdesk.scheduling.recurrence import parse_rule
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.sends import Settlement
from pushdesk.ui.desktop import application, server_status
from pushdesk.ui.dialogs.settings import Section
from pushdesk.ui.main_window import MainWindow

PHONES = (
    (
        "Anna’s phone",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        ("kitchen",),
    ),
    (
        "Front desk PC",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        ("front desk",),
    ),
    (
        "Ben’s iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        ("kitchen", "night shift"),
    ),
    (
        "Workshop laptop",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        (),
    ),
)


def device(label: str, user_agent: str, number: int) -> SubscriptionInput:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return SubscriptionInput(
        endpoint=f"https://fcm.googleapis.com/fcm/send/demo-{number}",
        p256dh=_b64url(point),
        auth=_b64url(os.urandom(16)),
        label=label,
        user_agent=user_agent,
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fill(services: Services, store: Store) -> None:
    """Devices, reminders that went out (with their log) and upcoming ones."""
    now = services.now()
    ids = []
    for number, (label, agent, groups) in enumerate(PHONES):
        stored, _ = store.subscriptions.upsert(
            device(label, agent, number), now - timedelta(days=3 - number)
        )
        store.subscriptions.set_groups(stored.id, groups)
        ids.append(stored.id)

    # Two devices gone quiet, warned by pushdesk's hygiene some days ago.
    tablet = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    for number, (label, quiet, warned) in enumerate(
        [("Old tablet", 63, 3), ("Reception kiosk", 70, 10)], start=90
    ):
        stored, _ = store.subscriptions.upsert(
            device(label, tablet, number), now - timedelta(days=quiet)
        )
        store.subscriptions.mark_warned([stored.id], now - timedelta(days=warned))

    went_out = [
        ("Kitchen", "Coffee machine descaled", [Delivered(201)] * 4),
        ("Backups", "Tape rotation is due today", [Delivered(201)] * 2 + [Gone(410)]),
        ("Night shift", "Doors locked?", [Failed(503, "Service Unavailable")] * 2),
    ]
    for hours, (title, message, outcomes) in enumerate(went_out, start=1):
        at = now - timedelta(hours=hours * 5)
        reminder = store.reminders.add(ReminderDraft(title, message, None, at), at)
        targets = ids[: len(outcomes)]
        store.reminders.fire(reminder, targets, at, late=False, next_due=None)
        jobs = store.sends.claim_ready("screenshots", at, limit=len(targets))
        store.sends.settle(
            [
                Settlement(job, outcome, _state(outcome))
                for job, outcome in zip(jobs, outcomes, strict=True)
            ],
            at,
        )
        delivered = sum(isinstance(o, Delivered) for o in outcomes)
        status = (
            ReminderStatus.SENT
            if delivered == len(outcomes)
            else ReminderStatus.PARTLY_SENT
            if delivered
            else ReminderStatus.FAILED
        )
        store.reminders.finish(reminder.id, status, at)
        if delivered:
            store.receipts.record(reminder.id, ids[0], "displayed", at)
            store.receipts.record(reminder.id, ids[0], "clicked", at)

    reminders = services.reminders
    reminders.schedule(
        "Team", "Stand-up in the big room", None, now + timedelta(minutes=10)
    )
    reminders.schedule(
        "Canteen",
        "Lunch is served — today: lentil soup",
        "https://intranet.example.org/menu",
        now + timedelta(hours=2),
        target=Target(groups=("kitchen",)),
    )
    reminders.schedule(
        "Facilities",
        "Fire drill at 15:00 — please leave by the east stairs",
        None,
        now + timedelta(days=1),
    )
    reminders.schedule(
        "Backups",
        "Swap the backup tape",
        None,
        (now + timedelta(days=1)).replace(hour=9, minute=0, second=0),
        repeat=parse_rule("weekdays", "Europe/Berlin"),
        target=Target(subscription_ids=(ids[1],)),
    )
    cancelled = reminders.schedule(
        "Team", "Offsite moved", None, now + timedelta(days=3)
    )
    reminders.cancel(cancelled.id)

    # Two that visitors set from the page for their own devices.
    for phone, message, minutes in (
        (ids[0], "Check the oven", 25),
        (ids[1], "Call the plumber back", 4 * 60),
    ):
        reminders.schedule_for_visitor(
            message,
            now + timedelta(minutes=minutes),
            visitor_device=phone,
            devices=[phone],
            ttl=24 * 60 * 60,
            most_pending=10,
        )


def _state(outcome: object) -> str:
    return {Delivered: "delivered", Gone: "gone"}.get(type(outcome), "failed")


async def shoot(runtime: Runtime, folder: Path) -> None:
    await runtime.start()
    assert runtime.server is not None
    window = MainWindow(
        runtime.services,
        runtime.server.urls(),
        runtime.clock,
        setup_urls=runtime.server.setup_urls(),
        server_status=partial(server_status, runtime),
    )
    window.resize(1200, 680)
    window.show()
    await asyncio.sleep(1)

    names = ("reminders", "devices", "log", "server")
    for index, name in enumerate(names):
        window.tabs.setCurrentIndex(index)
        await asyncio.sleep(0.5)
        window.grab().save(str(folder / f"window-{name}.png"))

    window.tabs.setCurrentIndex(0)
    page = window.reminders_page
    canteen = page.model.row_of(lambda line: line.reminder.title == "Canteen")
    assert canteen is not None
    page.view.selectRow(canteen)
    dialog = window.open_edit_reminder(page.selected_id() or 0)
    assert dialog is not None
    await asyncio.sleep(0.5)
    dialog.grab().save(str(folder / "dialog-reminder.png"))
    dialog.reject()

    settings = window.open_settings()
    await asyncio.sleep(0.5)
    settings.grab().save(str(folder / "dialog-settings.png"))
    settings.show_section(Section.DEVICES)
    await asyncio.sleep(0.3)
    settings.grab().save(str(folder / "dialog-settings-devices.png"))
    settings.show_section(Section.VISITORS)
    await asyncio.sleep(0.3)
    settings.grab().save(str(folder / "dialog-settings-visitors.png"))
    settings.reject()

    window.quit()
    await runtime.stop()


def main() -> None:
    import qasync

    folder = Path(sys.argv[1]).absolute()
    folder.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="pushdesk-shots-"))
    config = Config(
        data_dir=data_dir,
        server=ServerOptions(host="0.0.0.0", port=18443, helper_port=18080),
        vapid_subject="mailto:ops@example.org",
    )
    app = application()
    runtime = Runtime(config, open_store(config))
    fill(runtime.services, runtime.store)
    qasync.run(shoot(runtime, folder))
    app.quit()
    print(f"screenshots written to {folder}")


if __name__ == "__main__":
    main()
