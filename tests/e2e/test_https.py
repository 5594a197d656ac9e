"""HTTPS out of the box: the page over TLS from pushdesk's CA, and the plain
HTTP set-up page that hands a phone the CA certificate."""

import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config

pytestmark = pytest.mark.e2e


async def started(config: Config) -> Runtime:
    runtime = Runtime(config, open_store(config))
    await runtime.start()
    return runtime


@pytest_asyncio.fixture
async def https_runtime(config: Config) -> AsyncIterator[Runtime]:
    options = replace(config.server, http=False, helper_port=0)
    runtime = await started(replace(config, server=options))
    yield runtime
    await runtime.stop()


def trusting(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


async def test_the_page_is_served_over_https_trusted_through_the_local_ca(
    https_runtime: Runtime, data_dir: Path
) -> None:
    server = https_runtime.server
    assert server is not None
    connector = aiohttp.TCPConnector(ssl=trusting(data_dir / "tls" / "pushdesk-ca.crt"))

    async with aiohttp.ClientSession(connector=connector) as http:
        health = await http.get(f"https://localhost:{server.port}/api/health")
        await health.read()
        page = await http.get(f"https://127.0.0.1:{server.port}/")
        await page.read()

    assert health.status == 200
    assert page.status == 200
    assert f"https://127.0.0.1:{server.port}/" in server.urls()


async def test_a_client_that_does_not_trust_the_ca_is_refused(
    https_runtime: Runtime,
) -> None:
    assert https_runtime.server is not None

    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(f"https://localhost:{https_runtime.server.port}/")


async def test_the_setup_page_explains_and_hands_out_the_ca_certificate(
    https_runtime: Runtime, data_dir: Path
) -> None:
    server = https_runtime.server
    assert server is not None
    assert server.helper_port is not None
    base = f"http://127.0.0.1:{server.helper_port}"
    ca_pem = (data_dir / "tls" / "pushdesk-ca.crt").read_bytes()

    async with aiohttp.ClientSession() as http:
        page = await (await http.get(base + "/")).text()
        pem = await (await http.get(base + "/pushdesk-ca.crt")).read()
        der = await (await http.get(base + "/pushdesk-ca.cer")).read()
        moved = await http.get(base + "/api/health?x=1", allow_redirects=False)
        await moved.read()
        spoofed = await (
            await http.get(base + "/", headers={"Host": 'evil"><script>x</script>'})
        ).text()
        elsewhere = await http.get(
            base + "/x", headers={"Host": "evil.example:8080"}, allow_redirects=False
        )
        await elsewhere.read()

    for platform in ("Android", "iPhone", "Windows", "macOS", "Linux"):
        assert platform in page
    assert f"https://127.0.0.1:{server.port}/" in page
    ca = x509.load_pem_x509_certificate(ca_pem)
    fingerprint = ca.fingerprint(hashes.SHA256()).hex().upper()
    assert fingerprint[:2] + ":" + fingerprint[2:4] in page
    assert pem == ca_pem
    assert x509.load_der_x509_certificate(der) == ca
    assert moved.status == 308
    assert moved.headers["Location"] == (
        f"https://127.0.0.1:{server.port}/api/health?x=1"
    )
    assert "<script>x" not in spoofed
    assert elsewhere.status == 308
    assert "evil.example" not in elsewhere.headers["Location"]


async def test_the_operators_own_certificate_is_used_and_the_setup_port_redirects(
    config: Config, tmp_path: Path
) -> None:
    cert, key = own_certificate(tmp_path)
    options = replace(config.server, http=False, helper_port=0, cert=cert, key=key)
    runtime = await started(replace(config, server=options))
    server = runtime.server
    assert server is not None
    assert server.helper_port is not None
    try:
        connector = aiohttp.TCPConnector(ssl=trusting(cert))
        async with aiohttp.ClientSession(connector=connector) as http:
            health = await http.get(f"https://localhost:{server.port}/api/health")
            await health.read()
            setup = await http.get(
                f"http://127.0.0.1:{server.helper_port}/", allow_redirects=False
            )
            await setup.read()
    finally:
        await runtime.stop()

    assert health.status == 200
    assert setup.status == 308
    assert not (config.data_dir / "tls").exists()


def own_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, as an operator might bring."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "own.crt", folder / "own.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_a_running_pushdesk_renews_its_certificate_before_it_expires(
    config: Config, data_dir: Path
) -> None:
    import asyncio

    from tests.support.clock import FakeClock

    clock = FakeClock(datetime.now(UTC))
    options = replace(config.server, http=False, helper_port=None)
    runtime = Runtime(replace(config, server=options), open_store(config), clock=clock)
    await runtime.start()
    try:
        assert runtime.server is not None
        # Only the serial number is compared: the renewed certificate starts
        # in the fake clock's future, which a verifying client would refuse.
        trust = ssl.create_default_context()
        trust.check_hostname = False
        trust.verify_mode = ssl.CERT_NONE

        async def served_serial() -> int:
            _, writer = await asyncio.open_connection(
                "127.0.0.1",
                runtime.server.port,
                ssl=trust,  # type: ignore[union-attr]
            )
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            writer.close()
            await writer.wait_closed()
            return x509.load_der_x509_certificate(der).serial_number

        first = await served_serial()
        assert runtime.renew_certificate() is False
        clock.advance(days=370)

        assert runtime.renew_certificate() is True
        assert await served_serial() != first
    finally:
        await runtime.stop()
