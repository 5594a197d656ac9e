import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pushdesk import __version__
from pushdesk.cli import main, parse_duration
from pushdesk.clock import system_clock
from pushdesk.config import DATA_DIR_ENV, resolve_data_dir
from pushdesk.domain import Replacement, SubscriptionInput
from pushdesk.events import EventHub
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.cli import help_text
from tests.support.keys import AUTH, P256DH


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), ("10", 600), ("0s", 0)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_remind_stores_a_reminder_due_in_the_given_time(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    before = datetime.now(UTC)

    code, out, _ = run(
        capsys,
        "remind",
        "Stand-up",
        "--in",
        "5m",
        "--title",
        "Team",
        "--data-dir",
        str(data_dir),
    )

    assert code == 0
    store = Store.open(data_dir / "pushdesk.db")
    reminder = store.reminders.get(int(out))
    store.close()
    assert reminder.title == "Team"
    assert reminder.message == "Stand-up"
    expected = before + timedelta(minutes=5)
    assert abs((reminder.due_at - expected).total_seconds()) <= 2


def test_at_without_an_offset_is_local_time(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, out, _ = run(
        capsys, "remind", "x", "--at", "2030-06-01T08:30", "--data-dir", str(data_dir)
    )

    assert code == 0
    code, listing, _ = run(capsys, "reminders", "--json", "--data-dir", str(data_dir))
    [row] = json.loads(listing)
    local = datetime(2030, 6, 1, 8, 30).astimezone()
    assert row["due_at"] == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["status"] == "scheduled"
    assert row["id"] == int(out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remind", "x", "--in", "soon"], "is not a duration"),
        (["remind", "x", "--at", "tomorrow"], "is not an ISO 8601"),
        (["remind", "x"], "one of the arguments --in --at is required"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--data-dir", str(data_dir)])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_user_errors_exit_1_without_a_traceback(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, _, err = run(
        capsys, "remind", "   ", "--in", "5m", "--data-dir", str(data_dir)
    )

    assert code == 1
    assert err == "pushdesk: The message is empty.\n"


def test_bad_click_url_is_refused(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, _, err = run(
        capsys,
        "remind",
        "x",
        "--in",
        "5m",
        "--url",
        "javascript:alert(1)",
        "--data-dir",
        str(data_dir),
    )

    assert code == 1
    assert "http://" in err


def test_vapid_key_prints_the_stored_public_key(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    _, first, _ = run(capsys, "vapid-key", "--data-dir", str(data_dir))
    _, second, _ = run(capsys, "vapid-key", "--data-dir", str(data_dir))

    assert len(first.strip()) == 87
    assert first == second
    key_file = data_dir / "vapid_private.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_unreadable_key_is_one_sentence_naming_the_file(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "vapid_private.pem").write_text("broken")

    code, _, err = run(capsys, "vapid-key", "--data-dir", str(data_dir))

    assert code == 1
    assert str(data_dir / "vapid_private.pem") in err
    assert "Traceback" not in err


def test_empty_listings_say_so(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    Store.open(data_dir / "pushdesk.db").close()

    assert run(capsys, "reminders", "--data-dir", str(data_dir))[1] == "(none)\n"
    assert (
        run(capsys, "subscribers", "--json", "--data-dir", str(data_dir))[1] == "[]\n"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"pushdesk {__version__}\n"


def test_data_dir_option_beats_environment_beats_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))

    assert resolve_data_dir(tmp_path / "opt") == tmp_path / "opt"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert resolve_data_dir(None).name == "pushdesk"


def test_environment_variable_selects_the_data_dir(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))

    run(capsys, "remind", "x", "--in", "1m")

    assert (data_dir / "pushdesk.db").exists()


def test_vapid_subject_is_checked_and_stored(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    from pushdesk.app import open_store
    from pushdesk.config import Config
    from pushdesk.errors import InvalidInput

    with pytest.raises(InvalidInput, match="only exists on this network"):
        open_store(Config(data_dir, vapid_subject="mailto:me@printer.local"))
    store = open_store(Config(data_dir, vapid_subject="mailto:me@example.org"))
    assert store.settings.get("vapid_subject") == "mailto:me@example.org"
    store.close()


def test_options_may_stand_before_the_command(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    run(capsys, "--data-dir", str(data_dir), "remind", "x", "--in", "5m")

    code, out, _ = run(capsys, "--data-dir", str(data_dir), "reminders", "--json")

    assert code == 0
    assert len(json.loads(out)) == 1


def test_server_options_before_serve_are_kept() -> None:
    from pushdesk.cli import build_parser

    args = build_parser().parse_args(
        ["--host", "127.0.0.1", "--port", "8112", "serve", "--log-level", "debug"]
    )

    assert (args.host, args.port, args.log_level) == ("127.0.0.1", 8112, "debug")


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_ports_outside_the_range_are_usage_errors(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", port])

    assert exit_info.value.code == 2
    assert "is not a port from 1 to 65535" in capsys.readouterr().err


def test_a_time_long_past_is_refused(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, _, err = run(
        capsys, "remind", "x", "--at", "2020-01-01T00:00", "--data-dir", str(data_dir)
    )

    assert code == 1
    assert "is in the past" in err
    assert not (data_dir / "pushdesk.db").exists()


def test_a_delay_beyond_the_calendar_is_one_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, _, err = run(
        capsys, "remind", "x", "--in", "99999999d", "--data-dir", str(data_dir)
    )

    assert code == 1
    assert "too far in the future" in err


@pytest.mark.parametrize("verb", ["reminders", "subscribers"])
def test_listings_never_create_a_data_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str
) -> None:
    missing = tmp_path / "typo"

    code, _, err = run(capsys, verb, "--data-dir", str(missing))

    assert code == 1
    assert f"no pushdesk data in {missing}" in err
    assert not missing.exists()


def test_a_file_where_the_data_folder_should_be_is_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")

    code, _, err = run(capsys, "vapid-key", "--data-dir", str(tmp_path / "file"))

    assert code == 1
    assert str(tmp_path / "file") in err
    assert "Traceback" not in err


def test_relative_data_dir_is_made_absolute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    assert resolve_data_dir("rel") == tmp_path / "rel"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--in", "999999999999999d"], "too long a time"),
        (["--at", "9999-12-31T23:59:59-05:00"], "out of range"),
        (["--at", "0001-01-01T00:00+05:00"], "out of range"),
    ],
)
def test_times_beyond_the_calendar_are_usage_errors(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["remind", "x", *argv, "--data-dir", str(data_dir)])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x", "--in", "5m", "--url", "http://[::1"], "not a valid URL"),
        (["bad\udcff", "--in", "5m"], "not text"),
        (["x", "--title", "\x1b[2J", "--in", "5m"], "not text"),
        (['"' * 3800, "--in", "5m"], "too long to send as one push"),
        (["x", "--at", "2300-01-01T00:00"], "more than 100 years"),
    ],
)
def test_reminders_that_cannot_be_sent_are_refused_in_one_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "remind", *argv, "--data-dir", str(data_dir))

    assert code == 1
    assert message in err
    assert err.count("\n") == 1


def test_listing_never_prints_control_characters_from_labels(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    store = Store.open(data_dir / "pushdesk.db")
    store.db.execute(
        "INSERT INTO subscriptions (endpoint, p256dh, auth, label, created_at, "
        "last_seen_at) VALUES ('https://x.example/1', 'k', 'a', ?, "
        "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        ["\x1b]0;owned\x07\x1b[31mred"],
    )
    store.db.conn.commit()
    store.close()

    code, out, _ = run(capsys, "subscribers", "--data-dir", str(data_dir))

    assert code == 0
    assert "\x1b" not in out
    assert "\x07" not in out


def test_a_damaged_database_is_one_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "pushdesk.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)

    code, _, err = run(capsys, "reminders", "--data-dir", str(data_dir))

    assert code == 1
    assert "database" in err
    assert "Traceback" not in err


def test_remind_with_targets_options_and_a_repeat_rule(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    devices = tmp_path / "devices.jsonl"
    devices.write_text(
        json.dumps(
            {
                "endpoint": "https://fcm.googleapis.com/fcm/send/one",
                "keys": {"p256dh": P256DH, "auth": AUTH},
                "groups": ["Kitchen"],
            }
        )
        + "\n"
    )
    run(capsys, "subscribers", "import", str(devices), "--data-dir", str(data_dir))

    code, _out, err = run(
        capsys,
        "remind",
        "Lunch",
        "--in",
        "1h",
        "--to",
        "kitchen",
        "--to-subscription",
        "1",
        "--ttl",
        "10m",
        "--urgency",
        "high",
        "--repeat",
        "weekdays",
        "--tz",
        "Europe/Berlin",
        "--data-dir",
        str(data_dir),
    )

    assert code == 0, err
    _, listing, _ = run(capsys, "reminders", "--json", "--data-dir", str(data_dir))
    [row] = json.loads(listing)
    assert row["target"] == {"groups": ["kitchen"], "subscriptions": [1]}
    assert (row["ttl"], row["urgency"]) == (600, "high")
    assert "Europe/Berlin" in row["repeat"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "nobody"], "There is no group nobody."),
        (["--to-subscription", "9"], "There is no device 9."),
        (["--repeat", "sometimes"], "is not a repeat rule"),
        (["--repeat", "daily", "--tz", "Mars/Olympus"], "Mars/Olympus"),
        (["--to", " "], "--to needs a group name."),
    ],
)
def test_remind_refuses_targets_and_rules_it_cannot_honour(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], message: str
) -> None:
    code, _, err = run(
        capsys, "remind", "x", "--in", "5m", *argv, "--data-dir", str(data_dir)
    )

    assert code == 1
    assert message in err


def test_import_reports_added_updated_and_rejected_and_export_round_trips(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    good = {
        "endpoint": "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "expirationTime": None,
        "keys": {"p256dh": P256DH, "auth": AUTH},
        "label": "Anna",
        "groups": ["Office", "office", "Night shift"],
    }
    bad = good | {"endpoint": "http://insecure.example/x"}
    source = tmp_path / "in.json"
    source.write_text(json.dumps([good, good | {"label": "Anna 2"}, bad, {"x": 1}]))

    code, out, err = run(
        capsys, "subscribers", "import", str(source), "--data-dir", str(data_dir)
    )

    assert code == 1  # something was rejected
    assert out == "1 added, 1 updated, 2 rejected\n"
    assert "item 3: endpoint must be an https URL." in err
    assert "item 4: endpoint is missing." in err

    exported = tmp_path / "out.json"
    code, _, _ = run(
        capsys,
        "subscribers",
        "export",
        "--output",
        str(exported),
        "--data-dir",
        str(data_dir),
    )
    assert code == 0
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    [device] = json.loads(exported.read_text())
    assert device["label"] == "Anna 2"
    assert device["groups"] == ["Night shift", "Office"]
    assert device["keys"] == good["keys"]

    fresh = tmp_path / "fresh"
    code, out, _ = run(
        capsys, "subscribers", "import", str(exported), "--data-dir", str(fresh)
    )
    assert (code, out) == (0, "1 added, 0 updated, 0 rejected\n")


def test_import_reads_json_lines_and_reports_broken_lines(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    line = json.dumps(
        {
            "endpoint": "https://fcm.googleapis.com/fcm/send/x",
            "keys": {"p256dh": P256DH, "auth": AUTH},
        }
    )
    source = tmp_path / "in.jsonl"
    source.write_text(f"{line}\n{{broken\n\n")

    _code, out, err = run(
        capsys, "subscribers", "import", str(source), "--data-dir", str(data_dir)
    )

    assert out == "1 added, 0 updated, 1 rejected\n"
    assert "line 2: This is not valid JSON." in err


def test_a_maximum_lateness_under_a_minute_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--max-lateness", "5s"])

    assert exit_info.value.code == 2
    assert "at least 1m" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "summary"),
    [
        ("\ufeff" + "{line}\n", "1 added, 0 updated, 0 rejected\n"),
        ("{pretty}", "1 added, 0 updated, 0 rejected\n"),
    ],
    ids=["byte-order-mark", "one-pretty-object"],
)
def test_import_takes_a_bom_and_a_single_pretty_object(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    tmp_path: Path,
    content: str,
    summary: str,
) -> None:
    document = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/x",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }
    source = tmp_path / "in.json"
    source.write_text(
        content.format(line=json.dumps(document), pretty=json.dumps(document, indent=2))
    )

    _, out, _ = run(
        capsys, "subscribers", "import", str(source), "--data-dir", str(data_dir)
    )

    assert out == summary


def test_import_of_absurd_nesting_is_one_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "deep.json"
    source.write_text("[" * 5000 + "]" * 5000)

    code, _, err = run(
        capsys, "subscribers", "import", str(source), "--data-dir", str(data_dir)
    )

    assert code == 1
    assert "nests too deeply" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cert", "a.crt"], "--cert and --key go together."),
        (
            ["--http", "--cert", "a.crt", "--key", "a.key"],
            "--http serves no certificate",
        ),
        (["--port", "8080"], "--port and --http-port must differ."),
    ],
)
def test_inconsistent_server_options_are_one_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], message: str
) -> None:
    code, _, err = run(
        capsys,
        "serve",
        *argv,
        "--vapid-subject",
        "mailto:a@example.org",
        "--data-dir",
        str(data_dir),
    )

    assert code == 1
    assert message in err


def test_a_certificate_that_cannot_be_read_is_one_sentence(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "18443",
        "--http-port",
        "18080",
        "--cert",
        str(tmp_path / "missing.crt"),
        "--key",
        str(tmp_path / "missing.key"),
        "--vapid-subject",
        "mailto:a@example.org",
        "--data-dir",
        str(data_dir),
    )

    assert code == 1
    assert "Cannot use the certificate" in err
    assert "Traceback" not in err


def test_at_without_an_offset_is_read_in_the_given_zone(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    run(
        capsys,
        "remind",
        "x",
        "--at",
        "2030-06-01T21:00",
        "--tz",
        "Europe/Berlin",
        "--data-dir",
        str(data_dir),
    )

    _, listing, _ = run(capsys, "reminders", "--json", "--data-dir", str(data_dir))
    assert json.loads(listing)[0]["due_at"] == "2030-06-01T19:00:00Z"


def test_export_over_an_existing_readable_file_makes_it_owner_only(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    Store.open(data_dir / "pushdesk.db").close()
    target = tmp_path / "devices.json"
    target.write_text("old")
    target.chmod(0o644)

    run(
        capsys,
        "subscribers",
        "export",
        "--output",
        str(target),
        "--data-dir",
        str(data_dir),
    )

    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_reminders_json_says_which_a_visitor_set_and_from_which_device(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    store = Store.open(data_dir / "pushdesk.db")
    services = Services(store, EventHub(), system_clock)
    endpoint = "https://fcm.googleapis.com/fcm/send/anna"
    device, _ = services.subscriptions.register(
        SubscriptionInput(endpoint, P256DH, AUTH)
    )
    services.self_reminders.create(Replacement(endpoint, AUTH), "Oven", in_minutes=5)
    services.reminders.schedule("Stand-up", "Big room", None, system_clock())
    store.close()

    _, listing, _ = run(capsys, "reminders", "--json", "--data-dir", str(data_dir))

    rows = {row["message"]: row for row in json.loads(listing)}
    assert rows["Oven"]["visitor_device"] == device.id
    assert rows["Oven"]["target"] == {"groups": [], "subscriptions": [device.id]}
    assert rows["Big room"]["visitor_device"] is None


def test_pushdesk_help_has_examples_and_points_at_each_commands_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = help_text(capsys)

    assert "Example: pushdesk serve --vapid-subject " in out
    assert 'Example: pushdesk remind "Tea is ready" --in 5m' in out
    assert "Every command has its own --help" in out


def test_pushdesk_help_fits_an_80_column_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    out = help_text(capsys)

    assert [line for line in out.splitlines() if len(line) > 80] == []
