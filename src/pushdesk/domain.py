"""Plain types shared by every layer. No I/O here."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ReminderDraft:
    """What the operator asks for; the store turns it into a Reminder."""

    title: str
    message: str
    url: str | None
    due_at: datetime


@dataclass(frozen=True)
class Reminder:
    id: int
    title: str
    message: str
    url: str | None
    due_at: datetime
    status: ReminderStatus
    created_at: datetime
    sent_at: datetime | None = None


@dataclass(frozen=True)
class SubscriptionInput:
    """A validated PushSubscription as a browser sent it."""

    endpoint: str
    p256dh: str
    auth: str
    label: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Subscription:
    id: int
    endpoint: str
    p256dh: str
    auth: str
    label: str | None
    created_at: datetime
    last_seen_at: datetime
    user_agent: str | None = None

    @property
    def endpoint_host(self) -> str:
        return urlsplit(self.endpoint).hostname or "?"

    @property
    def short_endpoint(self) -> str:
        """Host and a short hash: enough to tell devices apart in a log.

        The path of an endpoint is a bearer token for the push service, so it
        never appears in full outside the database.
        """
        digest = hashlib.sha256(self.endpoint.encode()).hexdigest()[:8]
        return f"{self.endpoint_host}#{digest}"


# The typed result of one push attempt. The push adapter returns exactly one of
# these and never lets a library exception escape.


@dataclass(frozen=True)
class Delivered:
    status: int


@dataclass(frozen=True)
class Gone:
    """The push service says the subscription no longer exists (404 or 410)."""

    status: int


@dataclass(frozen=True)
class Failed:
    """Anything else: the push service refused, failed, or could not be reached."""

    status: int | None
    error: str


Outcome = Delivered | Gone | Failed


def outcome_name(outcome: Outcome) -> str:
    return type(outcome).__name__.lower()


@dataclass(frozen=True)
class Delivery:
    """One recorded send attempt of one reminder to one subscription."""

    id: int
    reminder_id: int
    subscription_id: int
    endpoint_host: str
    outcome: str
    status_code: int | None
    error: str | None
    attempted_at: datetime
