"""Operator settings: their checks, storage, precedence against the command
line, and the ones a running pushdesk applies without a restart."""

import asyncio
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pushdesk import settings as catalogue
from pushdesk.app import Runtime, open_store
from pushdesk.cli import build_parser, config_from
from pushdesk.config import Config, ServerOverrides, TlsMode
from pushdesk.domain import DEFAULT_CONCURRENCY, Urgency
from pushdesk.errors import InvalidInput, StartupError
from pushdesk.events import Event, EventHub, ReminderSent, SettingsChanged
from pushdesk.services import Services
from pushdesk.settings import (
    OperatorSettings,
    ReminderDefaults,
    format_duration,
    parse_duration,
    problems,
    server_options,
)
from pushdesk.store import Store
from pushdesk.store.settings import MAX_LATENESS, VAPID_SUBJECT
from pushdesk.validation import parse_subscription
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble

VALID = OperatorSettings(vapid_subject="mailto:ops@example.org")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"vapid_subject": "mailto:ops@localhost"},
            "vapid_subject",
            "localhost only exists on this network",
        ),
        (
            {"vapid_subject": "mailto:me@printer.local"},
            "vapid_subject",
            "printer.local only exists on this network",
        ),
        (
            {"vapid_subject": "https://localhost/"},
            "vapid_subject",
            "localhost only exists on this network",
        ),
        (
            {"vapid_subject": "https://192.168.1.20/contact"},
            "vapid_subject",
            "192.168.1.20 only exists on this network",
        ),
        (
            {"vapid_subject": "mailto:me@printer"},
            "vapid_subject",
            "printer is not a domain on the internet",
        ),
        (
            {"vapid_subject": "mailto:me@[203.0.113.5]"},
            "vapid_subject",
            "is an IP address, not a mail domain",
        ),
        ({"vapid_subject": "ops@example.org"}, "vapid_subject", "mailto: address"),
        ({"vapid_subject": "  "}, "vapid_subject", "Push services need a contact"),
        ({"host": "my host!"}, "host", "is not an address"),
        ({"port": 0}, "port", "0 is not a port from 1 to 65535."),
        ({"http_port": 70000}, "http_port", "70000 is not a port from 1 to 65535."),
        ({"concurrency": 0}, "concurrency", "From 1 to 256 pushes"),
        ({"concurrency": 257}, "concurrency", "not 257"),
        (
            {"max_lateness": timedelta(seconds=30)},
            "max_lateness",
            "at least 1 minute",
        ),
        ({"default_ttl": timedelta(days=29)}, "default_ttl", "at most 28 days"),
        ({"default_ttl": timedelta(seconds=-1)}, "default_ttl", "cannot be negative"),
        ({"port": 8080}, "http_port", "The set-up page needs a port of its own"),
        (
            {"tls": TlsMode.OWN_CERTIFICATE},
            "cert",
            "Choose your certificate file",
        ),
        (
            {"tls": TlsMode.OWN_CERTIFICATE, "cert": Path("/nowhere/cert.pem")},
            "key",
            "Choose the certificate's private key file",
        ),
        (
            {
                "tls": TlsMode.OWN_CERTIFICATE,
                "cert": Path("/nowhere/cert.pem"),
                "key": Path("/nowhere/key.pem"),
            },
            "cert",
            "Cannot use the certificate /nowhere/cert.pem",
        ),
    ],
)
def test_each_bad_value_is_refused_with_its_reason(
    changes: dict[str, Any], field: str, message: str
) -> None:
    found = problems(replace(VALID, **changes))

    assert list(found) == [field]
    assert message in found[field]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"vapid_subject": "https://example.org/contact"},
        {"vapid_subject": "https://93.184.216.34/"},
        {"host": "::"},
        {"host": "127.0.0.1"},
        {"host": "pushdesk.example.org"},
        {"port": 8080, "tls": TlsMode.PLAIN_HTTP},
        {"max_lateness": timedelta(minutes=1), "default_ttl": timedelta(0)},
        {"concurrency": 1},
        {"concurrency": 256},
    ],
)
def test_good_values_pass(changes: dict[str, Any]) -> None:
    assert problems(replace(VALID, **changes)) == {}


def test_a_readable_certificate_pair_passes(tmp_path: Path, clock: FakeClock) -> None:
    cert, key = certificate_pair(tmp_path, clock)

    assert (
        problems(replace(VALID, tls=TlsMode.OWN_CERTIFICATE, cert=cert, key=key)) == {}
    )
    assert "Cannot use" in problems(
        replace(VALID, tls=TlsMode.OWN_CERTIFICATE, cert=key, key=cert)
    ).get("cert", "")


def certificate_pair(folder: Path, clock: FakeClock) -> tuple[Path, Path]:
    from pushdesk.server.tls import LocalCA, machine_names

    files = LocalCA(folder / "tls", clock).server_files(machine_names())
    return files.cert, files.key


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("15", 900),
        (" 3 h ", 10800),
    ],
)
def test_durations_read_as_on_the_command_line(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [0, 45, 60, 90, 3600, 5400, 86400, 172800])
def test_durations_are_written_back_exactly(seconds: int) -> None:
    duration = timedelta(seconds=seconds)

    assert parse_duration(format_duration(duration)) == duration


def test_an_unreadable_duration_says_how_to_write_one() -> None:
    with pytest.raises(InvalidInput, match="write 90s, 5m, 2h or 1d"):
        parse_duration("soon")


# --- storage ---------------------------------------------------------------------

EVERYTHING_CHANGED = OperatorSettings(
    vapid_subject="https://example.org/pushdesk",
    host="127.0.0.1",
    port=9443,
    http_port=9080,
    tls=TlsMode.PLAIN_HTTP,
    cert=Path("/etc/ssl/mine.pem"),
    key=Path("/etc/ssl/mine.key"),
    default_ttl=timedelta(hours=2),
    default_urgency=Urgency.HIGH,
    max_lateness=timedelta(minutes=10),
    concurrency=8,
    start_minimised=True,
)


def test_saved_settings_read_back_from_the_file(
    services: Services, data_dir: Path
) -> None:
    assert services.settings.current() == OperatorSettings()

    services.settings.save(EVERYTHING_CHANGED)

    reopened = Store.open(data_dir / "pushdesk.db")
    try:
        assert Services(reopened, EventHub(), FakeClock()).settings.current() == (
            EVERYTHING_CHANGED
        )
    finally:
        reopened.close()


def test_saving_publishes_only_what_changed(services: Services, hub: EventHub) -> None:
    events: list[Event] = []
    hub.subscribe(events.append)

    first = services.settings.save(replace(VALID, concurrency=8))
    again = services.settings.save(replace(VALID, concurrency=8))

    assert first == ("vapid_subject", "concurrency")
    assert again == ()
    assert events == [SettingsChanged(("vapid_subject", "concurrency"))]


def test_values_are_stored_in_their_checked_form(services: Services) -> None:
    services.settings.save(replace(VALID, host="  ", vapid_subject=" mailto:a@b.org "))

    saved = services.settings.current()
    assert (saved.host, saved.vapid_subject) == ("0.0.0.0", "mailto:a@b.org")


def test_nothing_is_saved_when_one_value_is_refused(
    services: Services, hub: EventHub
) -> None:
    events: list[Event] = []
    hub.subscribe(events.append)

    with pytest.raises(InvalidInput, match="localhost") as refused:
        services.settings.save(
            replace(VALID, concurrency=8, vapid_subject="mailto:ops@localhost")
        )

    assert refused.value.field == "vapid_subject"
    assert services.settings.current() == OperatorSettings()
    assert events == []


def test_the_keys_used_before_the_catalogue_still_work(
    services: Services, store: Store
) -> None:
    secret = store.receipt_secret()
    store.settings.set(VAPID_SUBJECT, "mailto:ops@example.org")
    store.settings.set(MAX_LATENESS, "600")

    current = services.settings.current()
    services.settings.save(replace(current, concurrency=4))

    assert current.vapid_subject == "mailto:ops@example.org"
    assert current.max_lateness == timedelta(minutes=10)
    assert store.settings.get(MAX_LATENESS) == "600"
    assert store.receipt_secret() == secret


def test_a_damaged_saved_value_falls_back_to_its_default(
    services: Services, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.settings.set("concurrency", "lots")
    store.settings.set("tls_mode", "carrier-pigeon")

    current = services.settings.current()

    assert current.concurrency == DEFAULT_CONCURRENCY
    assert current.tls is TlsMode.OWN_CA
    assert "concurrency cannot be read" in caplog.text


def test_new_reminders_start_with_the_saved_ttl_and_urgency(
    services: Services,
) -> None:
    services.settings.save(
        replace(VALID, default_ttl=timedelta(hours=2), default_urgency=Urgency.HIGH)
    )

    assert services.settings.defaults() == ReminderDefaults(7200, Urgency.HIGH)


@pytest.mark.parametrize(
    ("changes", "notice"),
    [
        ({"default_ttl": timedelta(hours=2), "max_lateness": timedelta(hours=3)}, None),
        (
            {"concurrency": 8},
            "Restart pushdesk to use the new setting for pushes in flight.",
        ),
        ({"port": 9443}, "The server restarts with the new address"),
    ],
)
def test_the_notice_says_when_a_restart_is_needed(
    services: Services, changes: dict[str, Any], notice: str | None
) -> None:
    names = services.settings.save(replace(VALID, **changes))

    said = catalogue.notice(names)
    if notice is None:
        assert said is None
    else:
        assert said is not None
        assert notice in said


# --- saved settings against the command line -------------------------------------


def test_without_settings_or_options_the_documented_defaults_apply() -> None:
    options = server_options(OperatorSettings(), ServerOverrides())

    assert (options.host, options.main_port, options.helper_port) == (
        "0.0.0.0",
        8443,
        8080,
    )
    assert options.tls_mode is TlsMode.OWN_CA


def test_saved_settings_apply_when_the_command_line_is_silent() -> None:
    saved = replace(VALID, host="127.0.0.1", port=9443, http_port=9080)

    options = server_options(saved, ServerOverrides())

    assert (options.host, options.main_port, options.helper_port) == (
        "127.0.0.1",
        9443,
        9080,
    )


def test_the_command_line_wins_over_saved_settings() -> None:
    saved = replace(VALID, host="127.0.0.1", port=9443, http_port=9080)

    options = server_options(saved, ServerOverrides(host="::1", port=7443))

    assert (options.host, options.main_port, options.helper_port) == ("::1", 7443, 9080)


def test_http_on_the_command_line_wins_over_a_saved_certificate() -> None:
    saved = replace(
        VALID, tls=TlsMode.OWN_CERTIFICATE, cert=Path("c.pem"), key=Path("k.pem")
    )

    options = server_options(saved, ServerOverrides(http=True))

    assert options.tls_mode is TlsMode.PLAIN_HTTP
    assert options.cert is None
    assert options.main_port == 8080


def test_a_certificate_on_the_command_line_wins_over_saved_plain_http() -> None:
    saved = replace(VALID, tls=TlsMode.PLAIN_HTTP)

    options = server_options(
        saved, ServerOverrides(cert=Path("c.pem"), key=Path("k.pem"))
    )

    assert options.tls_mode is TlsMode.OWN_CERTIFICATE
    assert (options.cert, options.main_port) == (Path("c.pem"), 8443)


def test_a_port_clash_between_saved_and_given_ports_is_one_sentence() -> None:
    with pytest.raises(StartupError, match=r"--port and --http-port must differ\."):
        server_options(OperatorSettings(), ServerOverrides(port=8080))


def test_serve_reads_saved_settings_and_its_options_win(data_dir: Path) -> None:
    store = open_store(Config(data_dir))
    Services(store, EventHub(), FakeClock()).settings.save(
        replace(VALID, host="127.0.0.1", port=9443, tls=TlsMode.PLAIN_HTTP)
    )
    store.close()

    for argv, expected in (
        ([], ("127.0.0.1", 9443, True)),
        (["--port", "7000"], ("127.0.0.1", 7000, True)),
        (["--host", "::1", "--cert", "c.pem", "--key", "k.pem"], ("::1", 9443, False)),
    ):
        config = config_from(
            build_parser().parse_args(["serve", "--data-dir", str(data_dir), *argv])
        )
        runtime = Runtime(config, open_store(config))
        options = runtime.server_options()
        runtime.store.close()
        assert (options.host, options.main_port, options.http) == expected


def test_a_setting_changed_in_the_window_wins_over_the_command_line(
    data_dir: Path,
) -> None:
    config = config_from(
        build_parser().parse_args(
            ["serve", "--data-dir", str(data_dir), "--http", "--port", "7000"]
        )
    )
    runtime = Runtime(config, open_store(config))
    settings = runtime.services.settings

    settings.save(replace(VALID, port=7100))

    options = runtime.server_options()
    runtime.store.close()
    assert (options.main_port, options.http) == (7100, True)


# --- applied while running --------------------------------------------------------


async def test_a_new_maximum_lateness_applies_to_the_running_scheduler(
    config: Config,
) -> None:
    clock = FakeClock()
    runtime = Runtime(config, open_store(config), clock=clock)
    await runtime.start()
    try:
        services = runtime.services
        reminder = services.reminders.schedule(
            "T", "M", None, clock.now + timedelta(minutes=1)
        )
        services.settings.save(
            replace(services.settings.current(), max_lateness=timedelta(minutes=2))
        )
        clock.advance(minutes=5)

        assert runtime.scheduler is not None
        assert runtime.scheduler.fire_due() == []
        assert services.reminders.get(reminder.id).status.value == "missed"
    finally:
        await runtime.stop()


async def test_a_new_contact_is_in_the_next_push(
    config: Config, push_service: PushServiceDouble
) -> None:
    runtime = Runtime(config, open_store(config))
    await runtime.start()
    try:
        services = runtime.services
        browser = push_service.new_subscription()
        services.subscriptions.register(
            parse_subscription(browser.to_json(), [push_service.origin])
        )
        sent = asyncio.Event()
        services.hub.subscribe(
            lambda e: sent.set() if isinstance(e, ReminderSent) else None
        )

        services.settings.save(
            replace(services.settings.current(), vapid_subject="mailto:new@example.org")
        )
        services.reminders.schedule("T", "M", None, services.now())
        await asyncio.wait_for(sent.wait(), timeout=10)

        [push] = push_service.received
        assert push.vapid_claims["sub"] == "mailto:new@example.org"
    finally:
        await runtime.stop()


def plain_http_config(data_dir: Path, port: int) -> Config:
    """As the command line builds it: saved settings apply under the options."""
    given = ServerOverrides(host="127.0.0.1", port=port, http=True)
    config = config_from(build_parser().parse_args(["--data-dir", str(data_dir)]))
    config.command_line = given
    config.vapid_subject = "mailto:ops@example.org"
    return config


async def healthy(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/api/health"
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as reply:
            return reply.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def test_the_server_moves_to_a_new_port_without_a_restart(
    data_dir: Path,
) -> None:
    old_port, new_port = free_port(), free_port()
    config = plain_http_config(data_dir, old_port)
    runtime = Runtime(config, open_store(config))
    await runtime.start()
    try:
        settings = runtime.services.settings
        settings.save(replace(settings.current(), port=new_port))
        await runtime.restart_server()

        assert runtime.server is not None
        assert runtime.server.port == new_port
        assert await healthy(new_port)
        assert not await healthy(old_port)
    finally:
        await runtime.stop()


async def test_a_taken_new_port_leaves_the_server_where_it_was(
    data_dir: Path,
) -> None:
    old_port = free_port()
    config = plain_http_config(data_dir, old_port)
    runtime = Runtime(config, open_store(config))
    await runtime.start()
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            settings = runtime.services.settings
            settings.save(replace(settings.current(), port=taken.getsockname()[1]))

            with pytest.raises(StartupError, match="is already in use"):
                await runtime.restart_server()

        assert runtime.server is not None
        assert runtime.server.port == old_port
        assert await healthy(old_port)
    finally:
        await runtime.stop()


def test_a_contact_scheme_in_capitals_is_accepted_in_lower_case() -> None:
    from pushdesk.validation import check_vapid_subject

    assert check_vapid_subject("MAILTO:ops@example.org") == "mailto:ops@example.org"
    assert check_vapid_subject("HTTPS://example.org/") == "https://example.org/"
