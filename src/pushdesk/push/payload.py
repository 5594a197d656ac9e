"""What a reminder looks like on the wire, before encryption."""

import json

from pushdesk.domain import Reminder

# RFC 8291 leaves 4096 - 86 bytes of plaintext in one aes128gcm record (header,
# padding delimiter and tag take the rest); push services refuse larger bodies.
MAX_PAYLOAD_BYTES = 3993


# The largest id a reminder can have, for measuring before it has one.
_WIDEST_ID = 2**63 - 1


def reminder_payload(reminder: Reminder) -> bytes:
    """The JSON the service worker reads: title, body, url, tag and id."""
    return _encode(reminder.title, reminder.message, reminder.url, reminder.id)


def payload_size(title: str, message: str, url: str | None) -> int:
    """Bytes the payload of such a reminder takes, whatever id it gets."""
    return len(_encode(title, message, url, _WIDEST_ID))


def _encode(title: str, body: str, url: str | None, reminder_id: int) -> bytes:
    document = {
        "title": title,
        "body": body,
        "url": url,
        "tag": f"pushdesk-reminder-{reminder_id}",
        "id": reminder_id,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
