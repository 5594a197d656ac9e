"""HTTPS on the LAN: a local certificate authority and the server's certificate.

Browsers allow service workers and push only in a secure context, and a phone
reaches pushdesk by a LAN address, so pushdesk serves HTTPS with a certificate
from its own CA. The CA is made once (the operator installs it on each phone);
the server certificate is re-issued whenever the machine's names or addresses
change, or before it expires.
"""

import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pushdesk.clock import Clock
from pushdesk.errors import StartupError
from pushdesk.log import WEB
from pushdesk.store.db import make_private_dir, restrict_to_owner

CA_LIFETIME = timedelta(days=3650)
# Apple's platforms refuse TLS server certificates valid for more than 398 days.
SERVER_LIFETIME = timedelta(days=397)
RENEW_BEFORE = timedelta(days=30)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Names:
    """What the server certificate must be valid for."""

    dns: tuple[str, ...]
    ips: tuple[IPAddress, ...]


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca_cert: Path | None  # None when the operator brought their own certificate

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            raise StartupError(
                f"Cannot use the certificate {self.cert} with the key {self.key}: "
                f"{getattr(exc, 'strerror', None) or exc}."
            ) from exc
        return context


def machine_names() -> Names:
    """This machine's host name, <host>.local, localhost and its addresses now."""
    host = socket.gethostname().split(".")[0].lower()
    dns = sorted({host, f"{host}.local", "localhost"})

    ips: set[IPAddress] = {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                ip = ipaddress.ip_address(address.address.split("%")[0])
            except ValueError:
                continue
            if not ip.is_link_local:
                ips.add(ip)
    return Names(tuple(dns), tuple(sorted(ips, key=lambda i: (i.version, int(i)))))


class LocalCA:
    """pushdesk's own certificate authority, kept in <data>/tls/."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder = folder
        self._clock = clock
        self.cert_path = folder / "pushdesk-ca.crt"
        self.key_path = folder / "pushdesk-ca.key"
        self.server_cert_path = folder / "server.crt"
        self.server_key_path = folder / "server.key"
        self._key, self.certificate = self._load_or_create()

    def server_files(self, names: Names) -> TlsFiles:
        """The server certificate for ``names``, issued anew when needed."""
        reason = self._why_reissue(names)
        if reason:
            self._issue(names)
            WEB.info("issued a new server certificate (%s)", reason)
        else:
            restrict_to_owner(self.server_key_path, WEB)
        return TlsFiles(self.server_cert_path, self.server_key_path, self.cert_path)

    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def _load_or_create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if self.key_path.exists() or self.cert_path.exists():
            return self._load()
        return self._create()

    def _load(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        # Never replaced silently: every phone trusts exactly this CA.
        restrict_to_owner(self.key_path, WEB)
        path = self.key_path
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), None)
            path = self.cert_path
            certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError) as exc:
            # Only the error's kind: a parser's message may quote the file.
            raise StartupError(
                f"The certificate authority's file {path} cannot be read "
                f"({type(exc).__name__}). Restore the folder {self.folder} from "
                "a backup, or move it away to create a new authority (every "
                "phone then has to install the new certificate)."
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise StartupError(f"{self.key_path} is not an EC private key.")
        return key, certificate

    def _create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        make_private_dir(self.folder)
        key = ec.generate_private_key(ec.SECP256R1())
        now = self._clock()
        name = x509.Name(
            [
                x509.NameAttribute(
                    NameOID.COMMON_NAME, f"pushdesk CA {socket.gethostname()}"
                ),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pushdesk"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _key_pem(key))
        self.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        WEB.info("created a local certificate authority in %s", self.folder)
        return key, certificate

    def _why_reissue(self, names: Names) -> str | None:
        if not self.server_cert_path.exists() or not self.server_key_path.exists():
            return "none yet"
        try:
            current = x509.load_pem_x509_certificate(self.server_cert_path.read_bytes())
        except ValueError:
            return "the old one could not be read"
        if current.issuer != self.certificate.subject:
            return "the old one is from another authority"
        if current.not_valid_after_utc - self._clock() < RENEW_BEFORE:
            return "the old one expires soon"
        if _names_of(current) != names:
            return "this machine's names or addresses changed"
        if not _key_fits(self.server_key_path, current):
            # Its own key, so a new one costs the phones nothing.
            return "its key could not be read or does not fit it"
        return None

    def _issue(self, names: Names) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        now = self._clock()
        alternative = [x509.DNSName(n) for n in names.dns] + [
            x509.IPAddress(ip) for ip in names.ips
        ]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names.dns[0])])
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + SERVER_LIFETIME)
            .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
            .add_extension(
                x509.BasicConstraints(ca=False, path_length=None), critical=True
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._key.public_key()
                ),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        _write_private(self.server_key_path, _key_pem(key))
        self.server_cert_path.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + self.certificate.public_bytes(serialization.Encoding.PEM)
        )


def _names_of(certificate: x509.Certificate) -> Names:
    try:
        san = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
    except x509.ExtensionNotFound:
        return Names((), ())
    dns = tuple(sorted(san.value.get_values_for_type(x509.DNSName)))
    ips = [
        ip
        for ip in san.value.get_values_for_type(x509.IPAddress)
        if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
    ]
    return Names(dns, tuple(sorted(ips, key=lambda i: (i.version, int(i)))))


def _key_fits(path: Path, certificate: x509.Certificate) -> bool:
    """Is the key at ``path`` readable and the one ``certificate`` is for?"""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return False
    point = serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    public = certificate.public_key()
    return (
        isinstance(key, ec.EllipticCurvePrivateKey)
        and isinstance(public, ec.EllipticCurvePublicKey)
        and key.public_key().public_bytes(*point) == public.public_bytes(*point)
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(temporary, path)
