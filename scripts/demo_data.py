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
from pushdesk.domain import Delivered, ReminderDraft, ReminderStatus, SubscriptionInput
from pushdesk.store import Store
from pushdesk.store.sends import Settlement


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
    now = system_clock()
    anna, _ = store.subscriptions.upsert(device("Anna’s phone", "demo-1"), now)
    desk, _ = store.subscriptions.upsert(device("Front desk PC", "demo-2"), now)

    # A reminder that went out earlier: delivered to both, shown on one.
    sent = store.reminders.add(
        ReminderDraft("Kitchen", "Coffee machine descaled", None, now), now
    )
    store.reminders.fire(sent, [anna.id, desk.id], now, late=False, next_due=None)
    jobs = store.sends.claim_ready("demo", now, limit=2)
    store.sends.settle([Settlement(j, Delivered(201), "delivered") for j in jobs], now)
    store.receipts.record(sent.id, anna.id, "displayed", now)
    store.reminders.finish(sent.id, ReminderStatus.SENT, now)
    store.close()
