"""The VAPID key pair (RFC 8292): created once, then always loaded."""

import base64
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from pushdesk.clock import Clock
from pushdesk.errors import StartupError
from pushdesk.log import PUSH
from pushdesk.store.db import make_private_dir, restrict_to_owner


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class VapidKeys:
    vapid: Vapid02
    path: Path

    @property
    def public_key(self) -> str:
        """Unpadded base64url of the uncompressed P-256 point: what browsers take
        as ``applicationServerKey``."""
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)


def load_or_create(path: Path) -> VapidKeys:
    """Load the key at ``path``; create it only when no file is there.

    An existing file that cannot be read is an error, never a reason to make a
    new key: that would silently cut off every subscribed device.
    """
    # A dangling symlink counts as a key that is there but unreadable.
    if path.exists() or path.is_symlink():
        return _load(path)
    return _create(path)


def _load(path: Path) -> VapidKeys:
    restrict_to_owner(path, PUSH)

    # Read here rather than through Vapid02.from_file, which quietly makes and
    # saves a new key whenever the path is not a regular file.
    try:
        vapid = Vapid02.from_pem(path.read_bytes())
    except Exception as exc:  # py_vapid and cryptography raise many kinds
        raise StartupError(
            f"The VAPID key file {path} cannot be read ({type(exc).__name__}). "
            "Restore it from a backup, or move it away to create a new key "
            "(every device will then have to subscribe again)."
        ) from exc
    key = vapid.private_key
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        raise StartupError(
            f"The key in {path} is not a P-256 (prime256v1) EC key, which VAPID "
            "requires; restore the original key file."
        )
    return VapidKeys(vapid, path)


def _create(path: Path) -> VapidKeys:
    vapid = Vapid02()
    vapid.generate_keys()
    pem = vapid.private_pem()

    # Created with owner-only permissions from the start, and renamed into
    # place so that a crash never leaves half a key behind.
    try:
        make_private_dir(path.parent)
    except OSError as exc:
        raise StartupError(
            f"Cannot create the data folder {path.parent}: {exc}."
        ) from exc
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)

    PUSH.info("created a new VAPID key in %s", path)
    return VapidKeys(vapid, path)


# Push services refuse tokens valid for more than 24 h; half a day leaves room,
# and renewing an hour early means no request ever carries an expiring token.
TOKEN_LIFETIME = timedelta(hours=12)
TOKEN_RENEWAL = timedelta(hours=1)


class VapidSigner:
    """The Authorization header per push-service origin, signed once and reused.

    The token depends only on the audience, subject and expiry, so signing it
    for every message (as pywebpush does) spends ~80 µs for nothing.
    """

    def __init__(self, keys: VapidKeys, subject: str, clock: Clock) -> None:
        self._keys = keys
        self._subject = subject
        self._clock = clock
        self._cache: dict[str, tuple[str, datetime]] = {}

    def authorization(self, origin: str) -> str:
        now = self._clock()
        cached = self._cache.get(origin)
        if cached is not None and cached[1] - now > TOKEN_RENEWAL:
            return cached[0]

        expires = now + TOKEN_LIFETIME
        claims = {"sub": self._subject, "aud": origin, "exp": int(expires.timestamp())}
        header = str(self._keys.vapid.sign(claims)["Authorization"])
        self._cache[origin] = (header, expires)
        return header
