"""Receipts: a device's service worker says it showed or opened a reminder.

Each push carries a token that only pushdesk can make (an HMAC of reminder and
device under a secret kept with the data), so a receipt cannot be forged for
another device or reminder, and the worker needs nothing but the payload.
"""

import base64
import hashlib
import hmac
import secrets

TOKEN_LENGTH = 22  # base64url characters: 132 bits of the HMAC


def new_secret() -> str:
    return secrets.token_hex(32)


class ReceiptSigner:
    def __init__(self, secret: str) -> None:
        self._key = bytes.fromhex(secret)

    def token(self, reminder_id: int, subscription_id: int) -> str:
        message = f"{reminder_id}:{subscription_id}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]

    def check(self, reminder_id: int, subscription_id: int, token: str) -> bool:
        return hmac.compare_digest(self.token(reminder_id, subscription_id), token)
