import base64
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from pushdesk.errors import StartupError
from pushdesk.push.vapid import load_or_create


def test_first_start_creates_an_owner_only_key(tmp_path: Path) -> None:
    path = tmp_path / "data" / "vapid_private.pem"

    keys = load_or_create(path)

    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.path == path


def test_later_starts_load_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "vapid_private.pem"
    first = load_or_create(path)
    content = path.read_bytes()

    again = load_or_create(path)

    assert again.public_key == first.public_key
    assert path.read_bytes() == content


def test_public_key_is_an_unpadded_base64url_p256_point(tmp_path: Path) -> None:
    keys = load_or_create(tmp_path / "vapid_private.pem")

    assert len(keys.public_key) == 87
    assert "=" not in keys.public_key
    raw = base64.urlsafe_b64decode(keys.public_key + "=")
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    assert point.curve.name == "secp256r1"


@pytest.mark.parametrize(
    "content", [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nxx"]
)
def test_unreadable_key_is_an_error_naming_the_file_and_is_kept(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "vapid_private.pem"
    path.write_bytes(content)

    with pytest.raises(StartupError, match=str(path)):
        load_or_create(path)

    assert path.read_bytes() == content


def test_a_folder_in_place_of_the_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "vapid_private.pem"
    path.mkdir()

    with pytest.raises(StartupError, match="cannot be read"):
        load_or_create(path)


def test_a_key_readable_by_others_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "vapid_private.pem"
    first = load_or_create(path)
    path.chmod(0o644)

    again = load_or_create(path)

    assert again.public_key == first.public_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_dangling_symlink_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "vapid_private.pem"
    path.symlink_to(tmp_path / "on-a-disk-that-is-not-mounted.pem")

    with pytest.raises(StartupError, match="cannot be read"):
        load_or_create(path)

    assert path.is_symlink()
    assert not (tmp_path / "on-a-disk-that-is-not-mounted.pem").exists()


@pytest.mark.parametrize(
    "private_key",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        lambda: ec.generate_private_key(ec.SECP384R1()),
        ed25519.Ed25519PrivateKey.generate,
    ],
    ids=["rsa", "p384", "ed25519"],
)
def test_a_key_of_another_kind_is_refused(tmp_path: Path, private_key: Any) -> None:
    path = tmp_path / "vapid_private.pem"
    pem = private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)

    with pytest.raises(StartupError, match=str(path)):
        load_or_create(path)

    assert path.read_bytes() == pem
