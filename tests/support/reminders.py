"""Reminders scheduled straight through the service."""

from datetime import timedelta

from pushdesk.domain import Target
from pushdesk.services import Services


def scheduled_for_groups(services: Services, *groups: str) -> int:
    """A reminder to these groups, due an hour after the services' now; its id."""
    due = services.now() + timedelta(hours=1)
    reminder = services.reminders.schedule(
        "t", "m", None, due, target=Target(groups=groups)
    )
    return reminder.id
