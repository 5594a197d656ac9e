"""What a reminder looks like on the wire, before encryption."""

import json

from pushdesk.domain import Reminder

# RFC 8291 leaves 4096 - 86 bytes of plaintext in one aes128gcm record (header,
# padding delimiter and tag take the rest); push services refuse larger bodies.
MAX_PAYLOAD_BYTES = 3993


def reminder_payload(reminder: Reminder) -> bytes:
    """The JSON the service worker reads: title, body, url, tag and id."""
    document = {
        "title": reminder.title,
        "body": reminder.message,
        "url": reminder.url,
        "tag": reminder.tag,
        "id": reminder.id,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
