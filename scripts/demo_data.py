"""Made-up devices and an already-sent reminder, for screenshots.

Written straight to the data folder: nothing is ever sent to the made-up
endpoints.
"""

import base64
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pushdesk.clock import system_clock
from pushdesk.domain import ReminderDraft, ReminderStatus, SubscriptionInput
from pushdesk.store import Store


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def device(label: str, token: str) -> SubscriptionInput:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return SubscriptionInput(
        endpoint=f"https://fcm.googleapis.com/fcm/send/{token}",
        p256dh=b64url(point),
        auth=b64url(os.urandom(16)),
        label=label,
    )


if __name__ == "__main__":
    store = Store.open(Path(sys.argv[1]) / "pushdesk.db")
    store.subscriptions.upsert(device("Anna’s phone", "demo-1"), system_clock())
    store.subscriptions.upsert(device("Front desk PC", "demo-2"), system_clock())

    now = system_clock()
    sent = store.reminders.add(
        ReminderDraft("Kitchen", "Coffee machine descaled", None, now), now
    )
    store.reminders.fire(sent, [], now, late=False, next_due=None)
    store.reminders.finish(sent.id, ReminderStatus.SENT, now)
    store.close()
