"""Subscribe two made-up devices to a running pushdesk, for screenshots."""

import base64
import json
import os
import sys
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscribe(base: str, label: str, token: str) -> None:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    body = {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{token}",
        "keys": {"p256dh": b64url(point), "auth": b64url(os.urandom(16))},
        "label": label,
    }
    request = urllib.request.Request(
        f"{base}/api/subscriptions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        response.read()


if __name__ == "__main__":
    subscribe(sys.argv[1], "Anna’s phone", "demo-1")
    subscribe(sys.argv[1], "Front desk PC", "demo-2")
