"""What a reminder looks like on the wire, before encryption."""

import json

from pushdesk.domain import Reminder
from pushdesk.push.receipts import TOKEN_LENGTH

# RFC 8291 leaves 4096 - 86 bytes of plaintext in one aes128gcm record (header,
# padding delimiter and tag take the rest); push services refuse larger bodies.
MAX_PAYLOAD_BYTES = 3993


# The largest id a reminder can have, for measuring before it has one.
_WIDEST_ID = 2**63 - 1


def reminder_payload(
    reminder: Reminder, device: int | None = None, receipt: str | None = None
) -> bytes:
    """The JSON the service worker reads: title, body, url, tag and id, and
    for receipts the device's number and token."""
    return _encode(
        reminder.title,
        reminder.message,
        reminder.url,
        reminder.id,
        device,
        receipt,
        reminder.icon,
    )


def payload_size(
    title: str, message: str, url: str | None, icon: str | None = None
) -> int:
    """Bytes the payload of such a reminder takes, whatever ids it gets."""
    widest_receipt = "x" * TOKEN_LENGTH
    return len(
        _encode(title, message, url, _WIDEST_ID, _WIDEST_ID, widest_receipt, icon)
    )


def _encode(
    title: str,
    body: str,
    url: str | None,
    reminder_id: int,
    device: int | None = None,
    receipt: str | None = None,
    icon: str | None = None,
) -> bytes:
    document: dict[str, object] = {
        "title": title,
        "body": body,
        "url": url,
        "tag": f"pushdesk-reminder-{reminder_id}",
        "id": reminder_id,
    }
    if icon is not None:
        document["icon"] = icon
    if device is not None and receipt is not None:
        document |= {"device": device, "receipt": receipt}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
