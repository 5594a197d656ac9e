"""What ``reminders`` prints: JSON for scripts, tables and details for people."""

from typing import Any

from pushdesk.cli.common import local_time
from pushdesk.domain import Reminder
from pushdesk.errors import InvalidInput
from pushdesk.scheduling.recurrence import Recurrence
from pushdesk.services.reminders import ReminderLine
from pushdesk.store.db import to_db_time

TABLE_COLUMNS = ["id", "when", "status", "to", "title", "message"]
_DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def json_row(line: ReminderLine) -> dict[str, Any]:
    """A reminder for scripts; the README lists these fields."""
    reminder, reach = line.reminder, line.reach
    return {
        "id": reminder.id,
        "title": reminder.title,
        "message": reminder.message,
        "url": reminder.url,
        "due_at": to_db_time(reminder.due_at),
        "status": reminder.status.value,
        "sent_at": to_db_time(reminder.sent_at) if reminder.sent_at else None,
        "late": reminder.late,
        "target": {
            "groups": list(reminder.target.groups),
            "subscriptions": list(reminder.target.subscription_ids),
        },
        "repeat": _repeat_text(reminder, anchored=False),
        # The device whose visitor set it from the page; null: the operator's.
        "visitor_device": reminder.visitor_device,
        "ttl": reminder.ttl,
        "urgency": reminder.urgency.value,
        "delivered": reach.delivered,
        "displayed": reach.displayed,
        "clicked": reach.clicked,
        # Fields added later come last, so the older ones keep their places.
        "failed": reach.failed,
        "icon": reminder.icon,
        "visitor": line.visitor,
        "created_at": to_db_time(reminder.created_at),
    }


def table_row(line: ReminderLine) -> dict[str, Any]:
    reminder = line.reminder
    return {
        "id": reminder.id,
        "when": local_time(reminder.due_at),
        "status": reminder.status.value,
        "to": _to_text(line),
        "title": reminder.title,
        "message": reminder.message,
    }


def details(line: ReminderLine) -> dict[str, Any]:
    """A reminder for people, as `reminders show` prints it."""
    reminder, reach = line.reminder, line.reach
    set_by = "the operator"
    if line.visitor is not None:
        set_by = f"the visitor on {line.visitor} (device {reminder.visitor_device})"
    status = reminder.status.value + (" (late)" if reminder.late else "")
    if reach.progress is not None:
        # A repeating reminder stays scheduled while an occurrence goes out.
        done, total = reach.progress
        status = f"sending {done:,} of {total:,}"
    return {
        "id": reminder.id,
        "title": reminder.title,
        "message": reminder.message,
        "url": reminder.url,
        "icon": reminder.icon,
        "status": status,
        "due": local_time(reminder.due_at),
        "sent": local_time(reminder.sent_at) if reminder.sent_at else None,
        "created": local_time(reminder.created_at),
        "to": reminder.target.describe(),
        "repeat": _repeat_text(reminder, anchored=True) or "no",
        "ttl": _duration_text(reminder.ttl),
        "urgency": reminder.urgency.value,
        "set_by": set_by,
        "delivered": reach.delivered,
        "failed": reach.failed,
        "displayed": reach.displayed,
        "clicked": reach.clicked,
    }


def _to_text(line: ReminderLine) -> str:
    """Whom it goes to; a visitor's reminder says whose device set it."""
    target = line.reminder.target
    if line.visitor is None:
        return target.describe()
    text = f"visitor on {line.visitor}"
    if target.groups or target.subscription_ids != (line.reminder.visitor_device,):
        text += f" → {target.describe()}"
    return text


def _repeat_text(reminder: Reminder, *, anchored: bool) -> str | None:
    if not reminder.repeat:
        return None
    try:
        rule = Recurrence.from_text(reminder.repeat)
    except InvalidInput:
        return "(damaged rule)"
    return rule.describe(reminder.anchor_at if anchored else None)


def _duration_text(seconds: int) -> str:
    """Seconds as --ttl takes them: 1d, 90m, 45s."""
    for unit, size in _DURATION_UNITS:
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"
