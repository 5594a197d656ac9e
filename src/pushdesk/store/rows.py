"""Turning rows into domain objects, shared by the table modules."""

import json
from typing import Any

from pushdesk.domain import (
    Delivery,
    Reminder,
    ReminderStatus,
    Subscription,
    Target,
    Urgency,
)
from pushdesk.store.db import from_db_time


def reminder_from_row(row: dict[str, Any]) -> Reminder:
    return Reminder(
        id=row["id"],
        title=row["title"],
        message=row["message"],
        url=row["url"],
        due_at=from_db_time(row["due_at"]),
        status=ReminderStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        sent_at=from_db_time(row["sent_at"]) if row["sent_at"] else None,
        target=Target(
            groups=tuple(json.loads(row["target_groups"])),
            subscription_ids=tuple(json.loads(row["target_subscriptions"])),
        ),
        ttl=row["ttl"],
        urgency=Urgency(row["urgency"]),
        repeat=row["repeat"],
        anchor_at=from_db_time(row["anchor_at"]) if row["anchor_at"] else None,
        late=bool(row["late"]),
        icon=row.get("icon"),
        visitor_device=row.get("visitor_device"),
        deleted=row.get("deleted_at") is not None,
    )


def subscription_from_row(row: dict[str, Any]) -> Subscription:
    """``row["groups"]`` is a comma-joined list of group names (or empty)."""
    groups = row.get("groups") or ""
    return Subscription(
        id=row["id"],
        endpoint=row["endpoint"],
        p256dh=row["p256dh"],
        auth=row["auth"],
        label=row["label"],
        user_agent=row["user_agent"],
        created_at=from_db_time(row["created_at"]),
        last_seen_at=from_db_time(row["last_seen_at"]),
        groups=tuple(sorted(filter(None, groups.split(",")), key=str.lower)),
        flag_reason=row.get("flag_reason"),
    )


def delivery_from_row(row: dict[str, Any]) -> Delivery:
    return Delivery(
        id=row["id"],
        reminder_id=row["reminder_id"],
        subscription_id=row["subscription_id"],
        endpoint_host=row["endpoint_host"],
        outcome=row["outcome"],
        status_code=row["status_code"],
        error=row["error"],
        attempted_at=from_db_time(row["attempted_at"]),
        occurrence_at=(
            from_db_time(row["occurrence_at"]) if row["occurrence_at"] else None
        ),
    )
