"""Plain types shared by every layer. No I/O here."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    PARTLY_SENT = "partly_sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"


class Urgency(StrEnum):
    """RFC 8030 section 5.3: how eagerly a device should wake for the push."""

    VERY_LOW = "very-low"
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


DEFAULT_TTL_SECONDS = 24 * 60 * 60

# The limits below are read by the settings' checks and by the parts that
# apply them (scheduler, delivery engine, reminders, health); they live here,
# below all of those, so that each part reads the one value.

# Push services keep a message for an offline device at most about four weeks.
MAX_TTL = timedelta(days=28)
MAX_TTL_SECONDS = int(MAX_TTL.total_seconds())

# A one-shot found this much past due at start (pushdesk was off) is missed,
# not sent: "lunch is ready" three hours later helps nobody.
DEFAULT_MAX_LATENESS = timedelta(hours=1)

# The maximum lateness may not be set below this: a running pushdesk would
# otherwise mark reminders missed in the ordinary second it takes to fire.
MIN_MAX_LATENESS = timedelta(minutes=1)

# Pushes in flight at once.
DEFAULT_CONCURRENCY = 64
MAX_CONCURRENCY = 256

# Each delivery engine says it is alive this often; one silent for
# ENGINE_SILENCE is taken to have died (kill -9, power cut): its claimed sends
# are put back, and `pushdesk status` says no pushdesk is running.
HEARTBEAT = timedelta(seconds=2)
ENGINE_SILENCE = timedelta(seconds=10)


@dataclass(frozen=True)
class Target:
    """Whom a reminder goes to: everyone when both tuples are empty."""

    groups: tuple[str, ...] = ()
    subscription_ids: tuple[int, ...] = ()

    @property
    def everyone(self) -> bool:
        return not self.groups and not self.subscription_ids

    def describe(self) -> str:
        if self.everyone:
            return "everyone"
        parts = [f"group {name}" for name in self.groups]
        parts += [f"device {number}" for number in self.subscription_ids]
        return ", ".join(parts)


@dataclass(frozen=True)
class ReminderDraft:
    """What the operator asks for; the store turns it into a Reminder."""

    title: str
    message: str
    url: str | None
    due_at: datetime
    target: Target = Target()
    ttl: int = DEFAULT_TTL_SECONDS
    urgency: Urgency = Urgency.NORMAL
    repeat: str | None = None  # a scheduling.recurrence.Recurrence as text
    icon: str | None = None  # the notification's image; None: pushdesk's own
    # The device whose visitor set this reminder from the page; None: the
    # operator's.
    visitor_device: int | None = None


@dataclass(frozen=True)
class ReminderQuery:
    """Which reminders a listing shows, and in what order."""

    text: str = ""  # in the title or the message
    statuses: tuple[ReminderStatus, ...] = ()  # empty: any
    everyone_only: bool = False
    group: str | None = None  # targets this group by name
    device: int | None = None  # targets this device by id
    due_from: datetime | None = None
    due_until: datetime | None = None
    from_visitors: bool = False  # only those visitors set from the page
    sort: str = "due"  # due, title, status or created
    descending: bool = True


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
    target: Target = Target()
    ttl: int = DEFAULT_TTL_SECONDS
    urgency: Urgency = Urgency.NORMAL
    repeat: str | None = None
    anchor_at: datetime | None = None  # first occurrence: fixes the time of day
    late: bool = False  # its last occurrence went out late (pushdesk was off)
    icon: str | None = None
    visitor_device: int | None = None  # see ReminderDraft
    deleted: bool = False  # hidden from listings; its delivery log is kept

    @property
    def from_visitor(self) -> bool:
        return self.visitor_device is not None

    @property
    def topic(self) -> str:
        """RFC 8030 Topic: a newer push of this reminder replaces an undelivered one."""
        return f"pushdesk-r{self.id}"

    @property
    def tag(self) -> str:
        """Notification tag, the same for every push of this reminder."""
        return f"pushdesk-reminder-{self.id}"


@dataclass(frozen=True)
class SubscriptionInput:
    """A validated PushSubscription as a browser sent it."""

    endpoint: str
    p256dh: str
    auth: str
    label: str | None = None
    user_agent: str | None = None
    client_address: str | None = None  # who posted it, for per-address limits


@dataclass(frozen=True)
class Replacement:
    """The subscription a new one succeeds, proven by its auth secret."""

    endpoint: str
    auth: str


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
    groups: tuple[str, ...] = ()
    flag_reason: str | None = None  # the push service refused our credentials

    @property
    def origin(self) -> str:
        """The push service's origin: the VAPID audience for this endpoint.

        Scheme, host and a non-default port; no path, no default port.
        """
        parts = urlsplit(self.endpoint)
        default = {"https": 443, "http": 80}.get(parts.scheme)
        port = f":{parts.port}" if parts.port and parts.port != default else ""
        host = (
            f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        )
        return f"{parts.scheme}://{host}{port}"

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
class Rejected:
    """The push service refused this message for good (400, 413, other 4xx)."""

    status: int
    error: str


@dataclass(frozen=True)
class CredentialsRefused:
    """401/403: the push service does not accept our VAPID credentials."""

    status: int
    error: str


@dataclass(frozen=True)
class RetryLater:
    """A passing failure (429, 5xx, timeout, connection): try again.

    ``after`` is the push service's own Retry-After in seconds, when it gave one.
    """

    status: int | None
    error: str
    after: float | None = None


@dataclass(frozen=True)
class Failed:
    """Failed for good on our side: keys that cannot be used, retries exhausted."""

    status: int | None
    error: str


Outcome = Delivered | Gone | Rejected | CredentialsRefused | RetryLater | Failed


_OUTCOME_NAMES = {
    Delivered: "delivered",
    Gone: "gone",
    Rejected: "rejected",
    CredentialsRefused: "refused",
    RetryLater: "retry",
    Failed: "failed",
}


def outcome_name(outcome: Outcome) -> str:
    return _OUTCOME_NAMES[type(outcome)]


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
    occurrence_at: datetime | None = None  # which occurrence of the reminder
