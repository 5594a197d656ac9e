"""RFC 8291 message encryption, done by pywebpush and http_ece.

Kept to plain functions of picklable values so that a worker process can run
them: encryption is the CPU-bound part of a fan-out.
"""

import multiprocessing
import os
import threading

from pywebpush import WebPusher


def follow_parent() -> None:
    """Worker initializer: exit when the process that started us is gone.

    A pushdesk killed with SIGKILL cannot shut its pool down, and a spawned
    worker would otherwise live on forever, holding its parent's pipes.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_then_exit() -> None:
        parent.join()
        os._exit(0)

    threading.Thread(target=wait_then_exit, name="follow-parent", daemon=True).start()


def encrypt(endpoint: str, p256dh: str, auth: str, payload: bytes) -> bytes:
    """The aes128gcm body for one subscription (a fresh ephemeral key each time)."""
    pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
    body: bytes = pusher.encode(payload, "aes128gcm")["body"]
    return body


def encrypt_many(items: list[tuple[str, str, str, bytes]]) -> list[bytes | str]:
    """Encrypt each payload for its subscription (endpoint, p256dh, auth,
    payload); a failure is its error text.

    One call for a whole chunk: every push carries its device's own receipt,
    and a call per payload would cost a round trip to the worker each.
    """
    bodies: list[bytes | str] = []
    for endpoint, p256dh, auth, payload in items:
        try:
            bodies.append(encrypt(endpoint, p256dh, auth, payload))
        except Exception as exc:  # keys that cannot be used fail that device only
            bodies.append(f"cannot encrypt: {type(exc).__name__}")
    return bodies
