"""``pushdesk settings``: show, get and set, checked as the window checks."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pushdesk import settings as catalogue
from pushdesk.config import TlsMode
from pushdesk.domain import Urgency
from pushdesk.events import EventHub
from pushdesk.server.tls import LocalCA, machine_names
from pushdesk.services.settings import SettingsService
from pushdesk.settings import OperatorSettings
from pushdesk.store import Store
from tests.conftest import SUBJECT
from tests.support.cli import Cli, assert_refused_without_data, help_text
from tests.support.clock import FakeClock


@pytest.fixture
def saved(store: Store) -> SettingsService:
    """The settings of a data folder whose contact is set (the window asks for
    it before anything else can be saved)."""
    service = SettingsService(store, EventHub())
    service.save(OperatorSettings(vapid_subject=SUBJECT))
    return service


def test_show_lists_every_setting_with_its_meaning_and_when_it_applies(
    cli: Cli, saved: SettingsService
) -> None:
    code, out, err = cli("settings")

    assert (code, err) == (0, "")
    header, *lines = out.splitlines()
    assert header.split() == ["NAME", "VALUE", "MEANING", "APPLIES"]
    assert [line.split()[0] for line in lines] == list(catalogue.BY_NAME)
    by_name = {line.split()[0]: line for line in lines}
    assert by_name["default_ttl"].split("  ")[0:1] == ["default_ttl"]
    assert "1d" in by_name["default_ttl"]
    assert "Default time to live" in by_name["default_ttl"]
    assert by_name["default_ttl"].rstrip().endswith("at once")
    assert by_name["port"].split()[1] == "auto"
    assert by_name["concurrency"].rstrip().endswith("next start")
    assert by_name["host"].rstrip().endswith("server restart")
    assert by_name["cert"].split()[1] == "none"
    assert by_name["visitor_reminders"].split()[1] == "on"


def test_show_json_has_the_field_names_and_seconds(
    cli: Cli, saved: SettingsService
) -> None:
    saved.save(
        OperatorSettings(vapid_subject=SUBJECT, max_lateness=timedelta(minutes=90))
    )

    code, out, _ = cli("settings", "--json")

    values = json.loads(out)
    assert code == 0
    assert list(values) == [f.name for f in catalogue.CATALOGUE]
    assert values["vapid_subject"] == SUBJECT
    assert values["default_ttl"] == 86400
    assert values["max_lateness"] == 5400
    assert values["port"] is None
    assert values["http_port"] == 8080
    assert values["tls"] == "own-ca"
    assert values["cert"] is None
    assert values["default_urgency"] == "normal"
    assert values["start_minimised"] is False
    assert values["concurrency"] == 64


@pytest.mark.parametrize(
    ("name", "plain", "as_json"),
    [
        ("default_ttl", "1d", "86400"),
        ("max_lateness", "1h", "3600"),
        ("port", "auto", "null"),
        ("tls", "own-ca", '"own-ca"'),
        ("cert", "none", "null"),
        ("visitor_reminders", "on", "true"),
        ("concurrency", "64", "64"),
        ("vapid_subject", SUBJECT, f'"{SUBJECT}"'),
        ("default-urgency", "normal", '"normal"'),
    ],
)
def test_get_prints_the_value_plain_or_as_json(
    cli: Cli,
    saved: SettingsService,
    name: str,
    plain: str,
    as_json: str,
) -> None:
    assert cli("settings", "get", name) == (0, f"{plain}\n", "")
    assert cli("settings", "get", name, "--json") == (0, f"{as_json}\n", "")


@pytest.mark.parametrize(
    ("name", "text", "field", "stored"),
    [
        ("default_ttl", "2h", "default_ttl", timedelta(hours=2)),
        ("max_lateness", " 90s ", "max_lateness", timedelta(seconds=90)),
        ("default-urgency", "HIGH", "default_urgency", Urgency.HIGH),
        ("default_urgency", "very_low", "default_urgency", Urgency.VERY_LOW),
        ("tls", "plain-http", "tls", TlsMode.PLAIN_HTTP),
        ("port", "8443", "port", 8443),
        ("http_port", "8081", "http_port", 8081),
        ("host", "127.0.0.1", "host", "127.0.0.1"),
        ("visitor_reminders", "off", "visitor_reminders", False),
        ("start_minimised", "yes", "start_minimised", True),
        ("start_minimised", "1", "start_minimised", True),
        ("start_minimised", "True", "start_minimised", True),
        ("stale_after_days", "30", "stale_after_days", 30),
        ("vapid_subject", "https://example.org/ops", "vapid_subject", None),
    ],
)
def test_set_stores_the_value_read_as_the_window_reads_it(
    cli: Cli,
    saved: SettingsService,
    name: str,
    text: str,
    field: str,
    stored: object,
) -> None:
    code, out, err = cli("settings", "set", name, text)

    assert (code, err) == (0, "")
    value = getattr(saved.current(), field)
    assert value == (text if stored is None else stored)
    assert out.startswith(f"{field} is now ")


def test_set_says_when_the_change_takes_effect(
    cli: Cli, saved: SettingsService
) -> None:
    _, at_once, _ = cli("settings", "set", "default_ttl", "2h")
    _, restart, _ = cli("settings", "set", "host", "127.0.0.1")
    _, next_start, _ = cli("settings", "set", "concurrency", "32")

    assert at_once == "default_ttl is now 2h.\nIt takes effect at once.\n"
    assert restart == (f"host is now 127.0.0.1.\n{catalogue.notice(['host'])}\n")
    assert "server restarts" in restart
    assert next_start == (
        "concurrency is now 32.\n"
        "Restart pushdesk to use the new setting for pushes in flight.\n"
    )


def test_set_to_the_same_value_changes_nothing(
    cli: Cli, saved: SettingsService
) -> None:
    assert cli("settings", "set", "default_ttl", "24h") == (
        0,
        "default_ttl is already 1d.\n",
        "",
    )


def test_port_goes_back_to_automatic(cli: Cli, saved: SettingsService) -> None:
    cli("settings", "set", "port", "9443")

    code, out, _ = cli("settings", "set", "port", "auto")

    assert code == 0
    assert out.startswith("port is now auto.")
    assert saved.current().port is None


def test_a_relative_certificate_path_is_stored_absolute(
    cli: Cli,
    saved: SettingsService,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)

    code, _, _ = cli("settings", "set", "cert", "certs/site.pem")

    assert code == 0
    assert saved.current().cert == tmp_path / "certs" / "site.pem"
    assert cli("settings", "set", "cert", "none")[0] == 0
    assert saved.current().cert is None


def test_own_certificate_takes_the_files_first_and_checks_them(
    cli: Cli,
    saved: SettingsService,
    tmp_path: Path,
) -> None:
    files = LocalCA(tmp_path / "tls", FakeClock()).server_files(machine_names())
    cli("settings", "set", "cert", str(files.key))
    cli("settings", "set", "key", str(files.cert))

    code, _, err = cli("settings", "set", "tls", "own-certificate")
    assert code == 1
    assert err.startswith(
        f"pushdesk: tls cannot be saved until cert is corrected: Cannot use the "
        f"certificate {files.key} with the key {files.cert}: "
    )

    cli("settings", "set", "cert", str(files.cert))
    cli("settings", "set", "key", str(files.key))
    code, out, err = cli("settings", "set", "tls", "own-certificate")
    assert (code, err) == (0, "")
    assert out.startswith("tls is now own-certificate.\nThe server restarts")
    assert saved.current().tls is TlsMode.OWN_CERTIFICATE


def test_every_value_get_prints_is_taken_back_by_set(
    cli: Cli, saved: SettingsService
) -> None:
    for setting in catalogue.CATALOGUE:
        _, shown, _ = cli("settings", "get", setting.name)

        code, out, err = cli("settings", "set", setting.name, shown.strip())

        assert (code, err) == (0, ""), setting.name
        assert out == f"{setting.name} is already {shown.strip()}.\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "concurrency",
            "0",
            "concurrency: From 1 to 256 pushes may be in flight at once, not 0.",
        ),
        (
            "default_ttl",
            "soon",
            "default_ttl: 'soon' is not a duration; write 90s, 5m, 2h or 1d.",
        ),
        (
            "default_ttl",
            "29d",
            "default_ttl: Push services keep a message for at most 28 days; "
            "choose 28d or less.",
        ),
        (
            "max_lateness",
            "30s",
            "max_lateness: The maximum lateness must be at least 1 minute: a running "
            "pushdesk needs a moment to fire.",
        ),
        ("http_port", "70000", "http_port: 70000 is not a port from 1 to 65535."),
        ("port", "https", "port: 'https' is not a whole number, or auto."),
        ("max_body_kb", "1e3", "max_body_kb: '1e3' is not a whole number."),
        (
            "visitor_reminders",
            "maybe",
            "visitor_reminders: 'maybe' is not on or off (or yes, no, true, false, "
            "1, 0).",
        ),
        (
            "tls",
            "https",
            "tls: 'https' is not one of own-ca, own-certificate, plain-http.",
        ),
        (
            "default_urgency",
            "urgent",
            "default_urgency: 'urgent' is not one of very-low, low, normal, high.",
        ),
        (
            "vapid_subject",
            "none",
            "vapid_subject: Push services need a contact: a mailto: address or an "
            "https: page.",
        ),
        (
            "host",
            "not a host",
            "host: 'not a host' is not an address; write one of this machine's, like "
            "192.168.1.20, or 0.0.0.0 for all of them.",
        ),
        (
            "tls",
            "own-certificate",
            "tls cannot be saved until cert is corrected: Choose your certificate "
            "file (PEM).",
        ),
        (
            "http_port",
            "8443",
            "http_port: The set-up page needs a port of its own; 8443 is the page's.",
        ),
    ],
)
def test_invalid_value_exits_1_with_the_checks_sentence_and_saves_nothing(
    cli: Cli,
    saved: SettingsService,
    name: str,
    text: str,
    message: str,
) -> None:
    before = saved.current()

    code, out, err = cli("settings", "set", name, text)

    assert (code, out) == (1, "")
    assert err == f"pushdesk: {message}\n"
    assert saved.current() == before


def test_a_problem_elsewhere_names_that_setting(cli: Cli, store: Store) -> None:
    # A folder where nobody gave the contact yet: the window refuses to save too.
    code, _, err = cli("settings", "set", "concurrency", "10")

    assert code == 1
    assert err == (
        "pushdesk: concurrency cannot be saved until vapid_subject is corrected: "
        "Push services need a contact: a mailto: address or an https: page.\n"
    )


def test_set_prepares_a_new_data_folder(cli: Cli, data_dir: Path) -> None:
    code, _, _ = cli("settings", "set", "vapid_subject", SUBJECT)

    assert code == 0
    store = Store.open(data_dir / "pushdesk.db")
    assert SettingsService(store, EventHub()).current().vapid_subject == SUBJECT
    store.close()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("concurency", "There is no setting 'concurency'; did you mean concurrency?"),
        (
            "visitor_delay",
            "There is no setting 'visitor_delay'; did you mean "
            "visitor_max_delay_days, visitor_min_delay_minutes or visitor_reminders?",
        ),
        ("colour", "There is no setting 'colour'; `pushdesk settings` lists them."),
    ],
)
def test_unknown_name_exits_1_with_close_matches(
    cli: Cli,
    saved: SettingsService,
    name: str,
    message: str,
) -> None:
    for argv in (["get", name], ["set", name, "1"]):
        code, out, err = cli("settings", *argv)

        assert (code, out) == (1, "")
        assert err == f"pushdesk: {message}\n"


@pytest.mark.parametrize("argv", [[], ["get", "port"]])
def test_show_and_get_need_an_existing_data_folder(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str]
) -> None:
    assert_refused_without_data(capsys, data_dir, "settings", *argv)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["get"], "the following arguments are required: NAME"),
        (["set", "port"], "the following arguments are required: VALUE"),
        (["unset", "port"], "invalid choice: 'unset'"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    assert message in cli.usage_error("settings", *argv)


@pytest.mark.parametrize("argv", [[], ["get"], ["set"]])
def test_help_has_an_example(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert "Example: pushdesk settings" in help_text(capsys, "settings", *argv)
