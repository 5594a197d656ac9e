"""Secrets stay secret: private keys are owner-only files, and no key, device
secret or endpoint token reaches a log line, an error message, the window,
the CSV export or a listing.

Everything here runs on real parts: the real key files and database, the real
server over HTTPS on loopback, the real encryption and delivery, the push
service double as the browsers' push service. A secret is looked for in every
form it could be written in (PEM, base64, hex, the raw scalar of a key).
"""

import asyncio
import base64
import contextlib
import csv
import json
import logging
import secrets
import ssl
import stat
import traceback
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from pywebpush import WebPusher, webpush

from pushdesk import log
from pushdesk.app import Runtime, open_store
from pushdesk.cli import main
from pushdesk.clock import system_clock
from pushdesk.config import Config, ServerOptions
from pushdesk.domain import ReminderStatus, Subscription, SubscriptionInput
from pushdesk.errors import StartupError
from pushdesk.events import Event, EventHub, ReminderSent
from pushdesk.push.vapid import load_or_create
from pushdesk.server.app import create_app
from pushdesk.server.tls import LocalCA, Names
from pushdesk.services import Services
from pushdesk.services.deliveries import DeliveryQuery
from pushdesk.store import Store
from pushdesk.ui.paged import PagedTableModel
from pushdesk.ui.pages.devices import DevicesPage
from pushdesk.ui.pages.log import DeliveryLogPage
from tests.support.clock import FakeClock
from tests.support.push_service import BrowserSubscription, PushServiceDouble

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700
LOCALHOST = Names(("localhost",), ())
SUBJECT = "mailto:ops@example.org"

# --- What must never be written -------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Secrets:
    """Named texts that must appear nowhere the operator or a visitor reads."""

    forms: dict[str, str] = field(default_factory=dict)

    def add_key(self, name: str, pem: bytes) -> None:
        """A private key: its file, its body in either PEM format, each body
        line, and the private scalar in base64url, base64, hex and decimal."""
        key = serialization.load_pem_private_key(pem, None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        number = key.private_numbers().private_value
        raw = number.to_bytes(32, "big")
        self.forms |= {
            f"{name} file": pem.decode().strip(),
            f"{name} scalar base64url": b64url(raw),
            f"{name} scalar base64": base64.b64encode(raw).decode(),
            f"{name} scalar hex": raw.hex(),
            f"{name} scalar HEX": raw.hex().upper(),
            f"{name} scalar decimal": str(number),
        }
        for kind, fmt in (
            ("PKCS8", serialization.PrivateFormat.PKCS8),
            ("SEC1", serialization.PrivateFormat.TraditionalOpenSSL),
        ):
            text = key.private_bytes(
                serialization.Encoding.PEM, fmt, serialization.NoEncryption()
            ).decode()
            body = [line for line in text.splitlines() if not line.startswith("--")]
            self.forms[f"{name} {kind} body"] = "".join(body)
            for line_number, line in enumerate(body):
                self.forms[f"{name} {kind} line {line_number}"] = line

    def add_device(self, name: str, endpoint: str, p256dh: str, auth: str) -> None:
        """A device's keys in base64url, base64 and hex, and its endpoint with
        the token that is the push service's bearer credential."""
        for what, value in (("auth", auth), ("p256dh", p256dh)):
            raw = b64url_bytes(value)
            self.forms |= {
                f"{name} {what}": value,
                f"{name} {what} base64": base64.b64encode(raw).decode(),
                f"{name} {what} hex": raw.hex(),
            }
        self.forms |= {
            f"{name} endpoint": endpoint,
            f"{name} endpoint path": urlsplit(endpoint).path,
            f"{name} endpoint token": endpoint.rsplit("/", 1)[-1],
        }

    def add_browser(self, name: str, browser: BrowserSubscription) -> None:
        keys = browser.to_json()["keys"]
        self.add_device(name, browser.endpoint, keys["p256dh"], keys["auth"])

    def found_in(self, text: str) -> list[str]:
        return [name for name, value in self.forms.items() if value in text]


def new_device(host: str = "fcm.googleapis.com") -> SubscriptionInput:
    """A browser's subscription with keys of its own, for tests without the
    push service double."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return SubscriptionInput(
        endpoint=f"https://{host}/fcm/send/{secrets.token_urlsafe(24)}",
        p256dh=b64url(point),
        auth=b64url(secrets.token_bytes(16)),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def whole_error(exc: BaseException) -> str:
    """The message and every exception chained to it, as a traceback shows."""
    return "".join(traceback.format_exception(exc))


# --- Logging as the command line sets it up ---------------------------------


class Recorder(logging.Handler):
    """A handler on the root logger keeping every line it is handed, as
    formatted for a log file (with any traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@contextlib.contextmanager
def debug_logging(
    caplog: pytest.LogCaptureFixture | None = None,
) -> Iterator[Recorder]:
    """``pushdesk --log-level debug``'s logging, then the root logger opened up
    to DEBUG as a careless embedder would, with a recorder (and caplog, if
    given) on it. The logging set-up is put back afterwards."""
    root = logging.getLogger()
    handlers, filters, level = root.handlers[:], root.filters[:], root.level
    names = ("pushdesk", "aiohttp.access", *log.PUSH_LIBRARIES)
    levels = {name: logging.getLogger(name).level for name in names}
    if caplog is not None:
        caplog.set_level(logging.DEBUG)

    log.configure("debug")
    root.setLevel(logging.DEBUG)
    recorder = Recorder()
    if caplog is not None:
        # configure() replaced the root's handlers, pytest's among them.
        root.addHandler(caplog.handler)
    root.addHandler(recorder)
    try:
        yield recorder
    finally:
        root.handlers[:], root.filters[:] = handlers, filters
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


def formatted(records: Iterable[logging.LogRecord]) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in records]


# --- A day of pushdesk, logged at debug --------------------------------------


def https(config: Config, **options: Any) -> Config:
    return replace(
        config, server=replace(config.server, http=False, helper_port=0, **options)
    )


@contextlib.asynccontextmanager
async def running(config: Config) -> AsyncIterator[Runtime]:
    runtime = Runtime(config, open_store(config))
    try:
        await runtime.start()
        yield runtime
    finally:
        await runtime.stop()


# What the push service answers each device; "retried" fails once with a
# Retry-After of 0, so that its retry goes out at once.
ANSWERS = {"delivered": 201, "gone": 410, "rejected": 400, "refused": 403}


@dataclass
class Day:
    """What a day of pushdesk left behind, and what it must not show."""

    lines: list[str]  # from the recorder on the root logger
    short_endpoints: dict[str, str]
    secrets: Secrets
    csv_path: Path
    data_dir: Path


async def expect(response: Any, status: int) -> Any:
    async with response as answered:
        body = await answered.json()
        assert answered.status == status, body
        return body


async def pushdesk_day(
    config: Config, push_service: PushServiceDouble, csv_path: Path
) -> tuple[dict[str, str], Secrets]:
    """pushdesk over HTTPS with its own CA for a day of visitors and one
    reminder to all; the delivery log is exported as CSV at its end."""
    async with running(https(config)) as runtime:
        browsers, short_endpoints = await visitors(runtime, push_service)
        await remind_everyone(runtime, push_service, browsers)
        runtime.services.deliveries.export_csv(DeliveryQuery(), csv_path)
        day_secrets = Secrets()
        day_secrets.forms["receipt secret"] = runtime.store.receipt_secret()

    for name, browser in browsers.items():
        day_secrets.add_browser(name, browser)
    day_secrets.add_key("VAPID key", config.vapid_key_path.read_bytes())
    tls = config.data_dir / "tls"
    day_secrets.add_key("CA key", (tls / "pushdesk-ca.key").read_bytes())
    day_secrets.add_key("server key", (tls / "server.key").read_bytes())
    return short_endpoints, day_secrets


async def visitors(
    runtime: Runtime, push_service: PushServiceDouble
) -> tuple[dict[str, BrowserSubscription], dict[str, str]]:
    """Devices subscribe over HTTPS, one succeeds its old subscription, a
    stranger fails to remove one, which its owner then removes. Returns
    every browser and how pushdesk shortens its endpoint."""
    assert runtime.server is not None
    ca = runtime.config.data_dir / "tls" / "pushdesk-ca.crt"
    connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(ca)))
    base = f"https://127.0.0.1:{runtime.server.port}"
    names = [*ANSWERS, "retried", "replaced", "leaving"]
    browsers = {name: push_service.new_subscription() for name in names}
    browsers["successor"] = push_service.new_subscription()

    async with aiohttp.ClientSession(base, connector=connector) as http:
        for name in names:
            body = browsers[name].to_json() | {"label": name}
            await expect(http.post("/api/subscriptions", json=body), 201)
        old = browsers["replaced"]
        proof = {"endpoint": old.endpoint, "auth": b64url(old.auth)}
        body = browsers["successor"].to_json() | {"replaces": proof}
        await expect(http.post("/api/subscriptions", json=body), 201)
        short_endpoints = {
            name: found.short_endpoint
            for name, browser in browsers.items()
            if (found := runtime.store.subscriptions.find(browser.endpoint))
        }
        short_endpoints["replaced"] = short_of(old)

        leaving = browsers["leaving"]
        stranger = {"endpoint": leaving.endpoint, "auth": b64url(b"\x01" * 16)}
        await expect(http.delete("/api/subscriptions", json=stranger), 404)
        owner = {"endpoint": leaving.endpoint, "auth": b64url(leaving.auth)}
        await expect(http.delete("/api/subscriptions", json=owner), 200)
    return browsers, short_endpoints


async def remind_everyone(
    runtime: Runtime,
    push_service: PushServiceDouble,
    browsers: dict[str, BrowserSubscription],
) -> None:
    """One reminder, due now: delivered, gone, rejected, refused, and
    delivered at the second try; waits for it to be finished."""
    for name, status in ANSWERS.items():
        push_service.respond_with(browsers[name], status)
    push_service.respond_with(
        browsers["retried"], 500, times=1, headers={"Retry-After": "0"}
    )
    sent = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, ReminderSent):
            sent.set()

    runtime.hub.subscribe(on_event)
    reminder = runtime.services.reminders.schedule(
        "Stand-up", "In five minutes", None, datetime.now(UTC)
    )
    await asyncio.wait_for(sent.wait(), timeout=10)
    finished = runtime.services.reminders.get(reminder.id)
    assert finished.status is ReminderStatus.PARTLY_SENT


def short_of(browser: BrowserSubscription) -> str:
    """How pushdesk names an endpoint in its log, for a device it deleted."""
    now = datetime.now(UTC)
    return Subscription(0, browser.endpoint, "", "", None, now, now).short_endpoint


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def day(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Day]:
    """The day, lived once for every test that reads what it left behind."""
    folder = tmp_path_factory.mktemp("day")
    async with PushServiceDouble() as push_service:
        config = Config(
            data_dir=folder / "data",
            server=ServerOptions(
                host="127.0.0.1",
                port=0,
                http=True,
                allowed_push_origins=(push_service.origin,),
            ),
            vapid_subject=SUBJECT,
        )
        with debug_logging() as recorder:
            short_endpoints, day_secrets = await pushdesk_day(
                config, push_service, folder / "deliveries.csv"
            )
        assert push_service.problems == []
    yield Day(
        lines=recorder.lines,
        short_endpoints=short_endpoints,
        secrets=day_secrets,
        csv_path=folder / "deliveries.csv",
        data_dir=config.data_dir,
    )


def truncated(pem: bytes) -> bytes:
    """A key file cut short, as a failed copy leaves it: its first line of
    key material is still there, and must not be quoted back."""
    lines = pem.splitlines(keepends=True)
    return b"".join(lines[:2])


def another_key_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def own_certificate(folder: Path) -> tuple[Path, Path]:
    """The operator's own certificate and key, self-signed for localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "lan.crt", folder / "lan.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(OWNER_ONLY_FILE)
    return cert_path, key_path


# === 1. Key files and the database are the owner's alone =====================


class TestFileModes:
    async def test_a_first_start_leaves_every_key_and_the_database_owner_only(
        self, config: Config, data_dir: Path
    ) -> None:
        async with running(https(config)):
            tls = data_dir / "tls"
            private_files = [
                config.vapid_key_path,
                tls / "pushdesk-ca.key",
                tls / "server.key",
                config.database_path,
                # SQLite's write-ahead log holds recent rows, secrets included.
                data_dir / "pushdesk.db-wal",
                data_dir / "pushdesk.db-shm",
            ]
            modes = {path.name: mode(path) for path in private_files}
            folders = {path.name: mode(path) for path in (data_dir, tls)}

        assert modes == {path.name: OWNER_ONLY_FILE for path in private_files}
        assert folders == {"data": OWNER_ONLY_FOLDER, "tls": OWNER_ONLY_FOLDER}

    def test_a_vapid_key_readable_by_others_is_made_owner_only_and_said_so(
        self, data_dir: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        path = data_dir / "vapid_private.pem"
        first = load_or_create(path)
        path.chmod(0o644)

        with caplog.at_level(logging.WARNING, "pushdesk"):
            again = load_or_create(path)

        assert again.public_key == first.public_key
        assert mode(path) == OWNER_ONLY_FILE
        assert f"{path} was readable by others (mode 644)" in caplog.text

    def test_ca_and_server_keys_readable_by_others_are_made_owner_only(
        self, data_dir: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Restored from a backup with cp, say: the keys come back 0644.
        ca = LocalCA(data_dir / "tls", FakeClock())
        server_key = ca.server_files(LOCALHOST).key
        for path in (ca.key_path, server_key):
            path.chmod(0o644)

        with caplog.at_level(logging.WARNING, "pushdesk"):
            again = LocalCA(data_dir / "tls", FakeClock())
            files = again.server_files(LOCALHOST)

        assert again.der() == ca.der()
        assert mode(ca.key_path) == OWNER_ONLY_FILE
        assert mode(files.key) == OWNER_ONLY_FILE
        assert str(ca.key_path) in caplog.text
        assert str(files.key) in caplog.text

    def test_a_database_readable_by_others_is_made_owner_only(
        self, data_dir: Path
    ) -> None:
        Store.open(data_dir / "pushdesk.db").close()
        (data_dir / "pushdesk.db").chmod(0o644)

        Store.open(data_dir / "pushdesk.db").close()

        assert mode(data_dir / "pushdesk.db") == OWNER_ONLY_FILE

    def test_a_data_folder_made_by_the_operator_keeps_its_mode_not_its_files(
        self, data_dir: Path
    ) -> None:
        # --data-dir may name a folder the operator shares for other things:
        # pushdesk leaves it be, and makes every file it writes there private.
        data_dir.mkdir(mode=0o755)
        data_dir.chmod(0o755)

        load_or_create(data_dir / "vapid_private.pem")
        Store.open(data_dir / "pushdesk.db").close()
        LocalCA(data_dir / "tls", FakeClock()).server_files(LOCALHOST)

        assert mode(data_dir) == 0o755
        assert mode(data_dir / "vapid_private.pem") == OWNER_ONLY_FILE
        assert mode(data_dir / "pushdesk.db") == OWNER_ONLY_FILE
        assert mode(data_dir / "tls") == OWNER_ONLY_FOLDER
        assert mode(data_dir / "tls" / "pushdesk-ca.key") == OWNER_ONLY_FILE
        assert mode(data_dir / "tls" / "server.key") == OWNER_ONLY_FILE


# === 2. Logs =================================================================


def from_push_library(record: logging.LogRecord) -> bool:
    package = Path(record.pathname).parent.name
    top = record.name.split(".")[0]
    return package in log.PUSH_LIBRARIES or top in log.PUSH_LIBRARIES


class TestLogs:
    def test_a_day_logged_at_debug_holds_no_key_device_secret_or_token(
        self, day: Day
    ) -> None:
        leaks = {
            line: day.secrets.found_in(line)
            for line in day.lines
            if day.secrets.found_in(line)
        }

        assert leaks == {}
        # The recorder saw the day, so an empty leak list means something.
        assert len(day.lines) >= 20

    def test_every_device_is_logged_by_host_and_a_short_hash(self, day: Day) -> None:
        text = "\n".join(day.lines)

        missing = {
            name: short
            for name, short in day.short_endpoints.items()
            if short not in text
        }

        assert missing == {}
        assert all(s.startswith("127.0.0.1#") for s in day.short_endpoints.values())

    async def test_pywebpush_chatter_sent_to_the_root_logger_reaches_no_handler(
        self,
        caplog: pytest.LogCaptureFixture,
        push_service: PushServiceDouble,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # pywebpush's verbose mode logs the endpoint, the VAPID claims and
        # the signed Authorization header with logging.info (the root logger).
        monkeypatch.chdir(tmp_path)  # its curl output writes encrypted.data here
        keys = load_or_create(tmp_path / "vapid_private.pem")
        browser = push_service.new_subscription()

        def chatter() -> None:
            webpush(
                browser.to_json(),
                "hello",
                vapid_private_key=keys.vapid,
                vapid_claims={"sub": SUBJECT},
                curl=True,
                verbose=True,
            )
            WebPusher(browser.to_json(), verbose=True).encode(b"hello")

        with debug_logging(caplog) as recorder:
            chatter()
            heard = [*recorder.records, *caplog.records]
            quiet = len(recorder.records)
            [kept_out] = [
                f
                for f in logging.getLogger().filters
                if isinstance(f, log.PushLibraryFilter)
            ]
            logging.getLogger().removeFilter(kept_out)
            chatter()
            loud = recorder.records[quiet:]

        assert [r for r in heard if from_push_library(r)] == []
        # What the filter kept out: pywebpush's own lines with the endpoint.
        assert loud
        assert all(from_push_library(r) for r in loud)
        assert any(browser.endpoint in line for line in formatted(loud))

    def test_push_library_loggers_are_heard_only_from_warning_up(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with debug_logging(caplog) as recorder:
            for name in log.PUSH_LIBRARIES:
                logging.getLogger(name).info("%s info", name)
                logging.getLogger(f"{name}.inner").debug("%s debug", name)
                logging.getLogger(name).warning("%s warning", name)

        assert [r.getMessage() for r in recorder.records] == [
            f"{name} warning" for name in log.PUSH_LIBRARIES
        ]


# === 3. Error messages =======================================================


def key_secrets(name: str, *pems: bytes) -> Secrets:
    found = Secrets()
    for number, pem in enumerate(pems):
        found.add_key(f"{name} {number}", pem)
    return found


class TestErrorMessages:
    @pytest.mark.parametrize(
        "damage",
        [truncated, lambda pem: pem.replace(b"\n", b"\r\n", 2)[:-30]],
        ids=["cut-short", "garbled"],
    )
    def test_a_damaged_vapid_key_is_named_but_not_quoted(
        self, data_dir: Path, damage: Any
    ) -> None:
        path = data_dir / "vapid_private.pem"
        load_or_create(path)
        pem = path.read_bytes()
        path.write_bytes(damage(pem))

        with pytest.raises(StartupError) as raised:
            load_or_create(path)

        assert str(path) in str(raised.value)
        assert key_secrets("VAPID key", pem).found_in(whole_error(raised.value)) == []

    def test_a_vapid_key_on_another_curve_is_named_but_not_quoted(
        self, data_dir: Path
    ) -> None:
        key = ec.generate_private_key(ec.SECP384R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = data_dir / "vapid_private.pem"
        data_dir.mkdir()
        path.write_bytes(pem)
        lines = [line for line in pem.decode().splitlines() if "--" not in line]

        with pytest.raises(StartupError) as raised:
            load_or_create(path)

        assert str(path) in str(raised.value)
        text = whole_error(raised.value)
        assert [line for line in lines if line in text] == []

    def test_the_cli_names_a_damaged_vapid_key_but_does_not_quote_it(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = data_dir / "vapid_private.pem"
        load_or_create(path)
        pem = path.read_bytes()
        path.write_bytes(truncated(pem))

        code = main(["vapid-key", "--data-dir", str(data_dir)])

        out, err = capsys.readouterr()
        assert code == 1
        assert err.startswith(f"pushdesk: The VAPID key file {path} cannot be read")
        assert key_secrets("VAPID key", pem).found_in(out + err) == []

    @pytest.mark.parametrize("which", ["pushdesk-ca.key", "pushdesk-ca.crt"])
    def test_a_damaged_certificate_authority_names_the_damaged_file(
        self, data_dir: Path, which: str
    ) -> None:
        ca = LocalCA(data_dir / "tls", FakeClock())
        pem = ca.key_path.read_bytes()
        damaged = data_dir / "tls" / which
        damaged.write_bytes(truncated(damaged.read_bytes()))

        with pytest.raises(StartupError) as raised:
            LocalCA(data_dir / "tls", FakeClock())

        assert str(damaged) in str(raised.value)
        assert key_secrets("CA key", pem).found_in(whole_error(raised.value)) == []

    @pytest.mark.parametrize(
        "damage", [truncated, lambda _pem: another_key_pem()], ids=["cut", "other"]
    )
    def test_a_damaged_server_key_is_issued_anew_without_being_quoted(
        self, data_dir: Path, caplog: pytest.LogCaptureFixture, damage: Any
    ) -> None:
        # The server's key is pushdesk's own: a new one costs the phones
        # nothing, as they trust the authority, not the certificate.
        files = LocalCA(data_dir / "tls", FakeClock()).server_files(LOCALHOST)
        pem = files.key.read_bytes()
        files.key.write_bytes(damage(pem))

        with caplog.at_level(logging.INFO, "pushdesk"):
            renewed = LocalCA(data_dir / "tls", FakeClock()).server_files(LOCALHOST)

        renewed.ssl_context()
        assert mode(renewed.key) == OWNER_ONLY_FILE
        assert "issued a new server certificate (its key could not" in caplog.text
        assert key_secrets("server key", pem).found_in(caplog.text) == []

    @pytest.mark.parametrize(
        "damage", [truncated, lambda _pem: another_key_pem()], ids=["cut", "other"]
    )
    async def test_own_certificate_with_an_unusable_key_is_named_but_not_quoted(
        self, config: Config, tmp_path: Path, damage: Any
    ) -> None:
        cert, key = own_certificate(tmp_path / "lan")
        pem = key.read_bytes()
        replacement = damage(pem)
        key.write_bytes(replacement)
        # The key of another certificate is whole: it must not be quoted either.
        whole = [pem, replacement] if b"END" in replacement else [pem]

        with pytest.raises(StartupError) as raised:
            async with running(https(config, cert=cert, key=key)):
                pass

        assert str(key) in str(raised.value)
        secrets_of = key_secrets("own key", *whole)
        assert secrets_of.found_in(whole_error(raised.value)) == []


@pytest_asyncio.fixture
async def api(
    services: Services, push_service: PushServiceDouble
) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(
        services, "B" + "A" * 86, allowed_push_origins=(push_service.origin,)
    )
    async with TestClient(TestServer(app)) as client:
        yield client


def keys_of(browser: BrowserSubscription) -> tuple[str, str]:
    keys = browser.to_json()["keys"]
    return keys["p256dh"], keys["auth"]


def _off_the_curve(p256dh: str) -> str:
    """The same point with the last bit of y flipped: no longer on P-256.

    (Changing the first bits of x instead leaves the key as it was whenever
    they were zero already, one time in sixteen.)
    """
    raw = bytearray(base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4)))
    raw[-1] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def bad_bodies(browser: BrowserSubscription) -> dict[str, dict[str, Any]]:
    """Subscriptions the API refuses, each carrying real keys."""
    p256dh, auth = keys_of(browser)
    good = browser.to_json()
    token = browser.endpoint.rsplit("/", 1)[-1]
    return {
        "swapped": good | {"keys": {"p256dh": auth, "auth": p256dh}},
        "p256dh cut": good | {"keys": {"p256dh": p256dh[:-8], "auth": auth}},
        "p256dh off the curve": good
        | {"keys": {"p256dh": _off_the_curve(p256dh), "auth": auth}},
        "auth too long": good | {"keys": {"p256dh": p256dh, "auth": auth + "AAAA"}},
        "auth not base64": good | {"keys": {"p256dh": p256dh, "auth": auth + "*"}},
        "auth a number": good | {"keys": {"p256dh": p256dh, "auth": 12345}},
        "unknown push host": good
        | {"endpoint": f"https://push.example.org/send/{token}"},
        "bad label": good | {"label": "\u202e" + auth},
    }


class TestApiErrors:
    async def test_refused_subscriptions_never_echo_the_keys_or_the_token(
        self, api: TestClient[Any, Any], push_service: PushServiceDouble
    ) -> None:
        browser = push_service.new_subscription()
        sent = Secrets()
        sent.add_browser("sent", browser)
        answers = {}

        for what, body in bad_bodies(browser).items():
            response = await api.post("/api/subscriptions", json=body)
            answers[what] = (response.status, await response.text())

        statuses = {what: status for what, (status, _) in answers.items()}
        assert statuses == dict.fromkeys(answers, 400)
        leaks = {w: sent.found_in(text) for w, (_, text) in answers.items()}
        assert leaks == {what: [] for what in answers}

    async def test_a_wrong_auth_is_refused_without_echoing_either_secret(
        self, api: TestClient[Any, Any], push_service: PushServiceDouble
    ) -> None:
        browser = push_service.new_subscription()
        subscribed = await api.post("/api/subscriptions", json=browser.to_json())
        assert subscribed.status == 201
        guessed = b64url(secrets.token_bytes(16))
        proof = {"endpoint": browser.endpoint, "auth": guessed}
        known = Secrets()
        known.add_browser("device", browser)
        known.forms["guessed auth"] = guessed

        removal = await api.delete("/api/subscriptions", json=proof)
        test = await api.post("/api/test-notification", json=proof)
        extra = await api.delete("/api/subscriptions", json=proof | {"x": guessed})

        assert (removal.status, test.status, extra.status) == (404, 403, 400)
        for response in (removal, test, extra):
            assert known.found_in(await response.text()) == []


# === 4. The window, the CSV export and the listings ==========================

# Every role a view, a screen reader or a tooltip may ask a model for.
ROLES = [*Qt.ItemDataRole, *(Qt.ItemDataRole.UserRole + n for n in range(1, 8))]


def everything_shown(model: PagedTableModel[Any]) -> str:
    """Each cell's and header's data in every role, as text."""
    shown = []
    for column in range(model.columnCount()):
        for role in ROLES:
            shown.append(str(model.headerData(column, Qt.Orientation.Horizontal, role)))
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            shown += [str(model.data(index, role)) for role in ROLES]
    return "\n".join(shown)


@pytest.fixture
def services_after(day: Day) -> Iterator[Services]:
    """The day's database, opened again as the window opens it."""
    store = Store.open(day.data_dir / "pushdesk.db")
    yield Services(store, EventHub(), system_clock)
    store.close()


class TestOperatorSurface:
    def test_the_delivery_log_csv_holds_hosts_but_no_secret(self, day: Day) -> None:
        text = day.csv_path.read_text(encoding="utf-8-sig")
        with day.csv_path.open(encoding="utf-8-sig", newline="") as file:
            rows = list(csv.DictReader(file))

        assert day.secrets.found_in(text) == []
        # delivered, gone, rejected, refused, the successor, two tries of one
        assert len(rows) == 7
        assert {row["endpoint_host"] for row in rows} == {"127.0.0.1"}
        assert mode(day.csv_path) == OWNER_ONLY_FILE

    def test_the_devices_table_shows_no_secret_in_any_role(
        self, qtbot: QtBot, day: Day, services_after: Services
    ) -> None:
        page = DevicesPage(services_after)
        qtbot.addWidget(page)
        page.refresh()

        shown = everything_shown(page.model)

        assert page.model.rowCount() == 5
        assert "127.0.0.1" in shown
        assert day.secrets.found_in(shown) == []

    def test_the_delivery_log_table_shows_no_secret_in_any_role(
        self, qtbot: QtBot, day: Day, services_after: Services
    ) -> None:
        page = DeliveryLogPage(services_after)
        qtbot.addWidget(page)
        page.model.refresh()

        shown = everything_shown(page.model)

        assert page.model.rowCount() == 7
        assert "500 Internal Server Error" in shown
        assert day.secrets.found_in(shown) == []

    def test_subscribers_json_has_whole_endpoints_but_never_keys(
        self, services: Services, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        devices = [new_device(), new_device("updates.push.services.mozilla.com")]
        keys = Secrets()
        for number, device in enumerate(devices):
            services.subscriptions.register(device)
            keys.add_device(
                f"device {number}", device.endpoint, device.p256dh, device.auth
            )
        key_forms = {n: v for n, v in keys.forms.items() if "endpoint" not in n}

        assert main(["subscribers", "--json", "--data-dir", str(data_dir)]) == 0
        listing = capsys.readouterr().out
        assert main(["subscribers", "--data-dir", str(data_dir)]) == 0
        table = capsys.readouterr().out

        rows = json.loads(listing)
        assert [row["endpoint"] for row in rows] == [d.endpoint for d in devices]
        assert Secrets(key_forms).found_in(listing) == []
        assert keys.found_in(table) == []

    def test_subscribers_export_says_it_holds_the_push_secrets(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # The export carries every device's keys on purpose: import needs them.
        with pytest.raises(SystemExit) as exited:
            main(["subscribers", "export", "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        with pytest.raises(SystemExit):
            main(["subscribers", "--help"])
        verbs = " ".join(capsys.readouterr().out.split())

        assert exited.value.code == 0
        assert "holds the devices' push secrets: keep the file private" in help_text
        assert "--output FILE write here (owner-only)" in help_text
        assert "export write every device, with its keys" in verbs
