"""One schema per API route: what each request body must be.

The rules themselves live in ``pushdesk.validation``, shared with the
command line's import; ``validation.check`` reads a body as its route's schema
and turns the first problem into InvalidInput, which the API renders as a 400.

``GET /api/vapid-public-key`` and ``GET /api/health`` take no input: their
query string and body are ignored, so they have no schema.
"""

from typing import Annotated

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


# SQLite's rowids are signed 64-bit numbers.
RowId = Annotated[int, Field(gt=0, lt=2**63)]
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
