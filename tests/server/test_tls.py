"""pushdesk's own certificate authority and the server certificate it issues."""

import ipaddress
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from pushdesk.errors import StartupError
from pushdesk.server.tls import LocalCA, Names
from tests.support.clock import FakeClock

NAMES = Names(
    ("desk", "desk.local", "localhost"),
    (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("192.168.1.20")),
)


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_ca_is_made_once_with_an_owner_only_key(tmp_path: Path) -> None:
    clock = FakeClock()
    first = LocalCA(tmp_path / "tls", clock)
    again = LocalCA(tmp_path / "tls", clock)

    assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700
    assert again.pem() == first.pem()
    constraints = first.certificate.extensions.get_extension_for_class(
        x509.BasicConstraints
    )
    assert constraints.value.ca is True


def test_the_server_certificate_names_the_machine_and_chains_to_the_ca(
    tmp_path: Path,
) -> None:
    ca = LocalCA(tmp_path / "tls", FakeClock())

    files = ca.server_files(NAMES)

    issued = certificate(files.cert)
    issued.verify_directly_issued_by(ca.certificate)
    san = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == list(NAMES.dns)
    assert set(san.get_values_for_type(x509.IPAddress)) == set(NAMES.ips)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    lifetime = issued.not_valid_after_utc - issued.not_valid_before_utc
    assert lifetime <= timedelta(days=398)
    files.ssl_context()


def test_the_same_names_keep_the_certificate(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls", FakeClock())
    first = ca.server_files(NAMES).cert.read_bytes()

    assert ca.server_files(NAMES).cert.read_bytes() == first


def test_a_new_address_reissues_the_certificate(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls", FakeClock())
    ca.server_files(NAMES)
    moved = Names(NAMES.dns, (*NAMES.ips, ipaddress.ip_address("10.0.0.7")))

    files = ca.server_files(moved)

    san = certificate(files.cert).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert ipaddress.ip_address("10.0.0.7") in san.value.get_values_for_type(
        x509.IPAddress
    )


def test_the_certificate_is_reissued_a_month_before_it_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    ca = LocalCA(tmp_path / "tls", clock)
    first = certificate(ca.server_files(NAMES).cert)

    clock.advance(days=360)
    kept = certificate(ca.server_files(NAMES).cert)
    clock.advance(days=10)
    renewed = certificate(ca.server_files(NAMES).cert)

    assert kept.serial_number == first.serial_number
    assert renewed.serial_number != first.serial_number
    assert renewed.not_valid_after_utc > clock.now + timedelta(days=300)


def test_a_damaged_ca_is_an_error_and_is_kept(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "tls", FakeClock())
    ca.key_path.write_bytes(b"not a key")

    with pytest.raises(StartupError, match="certificate authority"):
        LocalCA(tmp_path / "tls", FakeClock())

    assert ca.key_path.read_bytes() == b"not a key"
