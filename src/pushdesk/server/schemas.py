"""One schema per API route: what each request body must be.

The rules themselves live in ``pushdesk.validation``, shared with the
command line's import; ``validation.check`` reads a body as its route's schema
and turns the first problem into InvalidInput, which the API renders as a 400.

``GET /api/vapid-public-key`` and ``GET /api/health`` take no input: their
query string and body are ignored, so they have no schema.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from pushdesk.domain import Replacement, SubscriptionInput
from pushdesk.push.receipts import TOKEN_LENGTH
from pushdesk.store.receipts import KINDS
from pushdesk.validation import (
    AuthSecret,
    PushEndpoint,
    Schema,
    SubscriptionDocument,
)

_BASE64URL = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)


def _receipt_token(value: str) -> str:
    if len(value) != TOKEN_LENGTH or not set(value) <= _BASE64URL:
        raise ValueError("is not a receipt token.")
    return value


def _receipt_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"must be one of {', '.join(KINDS)}.")
    return value


def _moment(value: str) -> str:
    _parse_moment(value)
    return value


def _parse_moment(value: str) -> datetime:
    """An ISO 8601 time with its offset, as ``Date.toISOString()`` writes it."""
    if len(value) > 40:
        raise ValueError("is not a time.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "is not a time; write it as ISO 8601, like 2026-12-04T17:30:00Z."
        ) from None
    if moment.tzinfo is None:
        raise ValueError("has no time zone; end it with Z or an offset like +01:00.")
    return moment


# SQLite's rowids are signed 64-bit numbers.
RowId = Annotated[int, Field(gt=0, lt=2**63)]
Moment = Annotated[str, AfterValidator(_moment)]
# The settings hold the real limits; these only bound what is read at all.
VisitorMessage = Annotated[str, Field(max_length=2000)]
Minutes = Annotated[int, Field(gt=0, le=10_000_000)]
ReceiptToken = Annotated[str, AfterValidator(_receipt_token)]
ReceiptKind = Annotated[str, AfterValidator(_receipt_kind)]


class DeviceProof(Schema):
    """``{endpoint, auth}``: a device proving it is the one subscribed there.

    Our own page writes this, so an unknown field is a bug or a probe: refused.
    """

    endpoint: PushEndpoint
    auth: AuthSecret

    def replacement(self) -> Replacement:
        return Replacement(self.endpoint, self.auth)


class SubscribeBody(SubscriptionDocument):
    """POST /api/subscriptions: the browser's subscription, and the one it
    succeeds when the page had to subscribe again."""

    replaces: DeviceProof | None = None

    def subscription(
        self, user_agent: str | None, client_address: str | None
    ) -> SubscriptionInput:
        return SubscriptionInput(
            endpoint=self.endpoint,
            p256dh=self.keys.p256dh,
            auth=self.keys.auth,
            label=self.label,
            user_agent=user_agent,
            client_address=client_address,
        )

    def replaced(self) -> Replacement | None:
        return self.replaces.replacement() if self.replaces else None


class UnsubscribeBody(DeviceProof):
    """DELETE /api/subscriptions: a device turning itself off."""


class DeviceTestBody(DeviceProof):
    """POST /api/test-notification: a device asking for a test of itself."""


class ReceiptBody(Schema):
    """POST /api/receipts: the service worker showed or opened a reminder."""

    id: RowId
    device: RowId
    receipt: ReceiptToken
    kind: ReceiptKind


class SelfReminderBody(DeviceProof):
    """POST /api/self-reminders: a visitor sets a reminder for their device,
    ``in_minutes`` from now or ``at`` a time; ``also`` adds other devices of
    theirs, each proven by its own secret."""

    message: VisitorMessage
    in_minutes: Minutes | None = None
    at: Moment | None = None
    also: list[DeviceProof] = Field(default_factory=list, max_length=10)

    def due(self) -> datetime | None:
        return None if self.at is None else _parse_moment(self.at)

    def others(self) -> list[Replacement]:
        return [proof.replacement() for proof in self.also]


class SelfReminderListBody(DeviceProof):
    """POST /api/self-reminders/list: a device asks for its waiting reminders
    (a POST, as the secret must not travel in a URL)."""


class SelfReminderCancelBody(DeviceProof):
    """DELETE /api/self-reminders/{id}: a device cancels one of its own."""


class LiveIdentifyMessage(Schema):
    """On /api/events: the page says which device it is (``device`` proven as
    above), or that it is none any more (``device`` null). Live events go only
    to the pages of the devices a reminder was sent to."""

    type: Literal["identify"]
    device: DeviceProof | None
