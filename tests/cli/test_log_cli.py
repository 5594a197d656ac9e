"""``pushdesk log``: the delivery log from the command line, on a real store.

The attempts are written as the delivery engine writes them, a second apart,
ending a few minutes before the real time (``--from 1h`` reads the real clock).
"""

import codecs
import csv
import io
import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pushdesk.domain import Delivered, Failed, Rejected, RetryLater
from pushdesk.services.deliveries import CSV_HEADER
from pushdesk.store import Store
from tests.support.attempts import AttemptLog
from tests.support.cli import Cli, assert_refused_without_data, help_text, utc
from tests.support.clock import FakeClock

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def log(cli: Cli, *more: str) -> list[dict[str, Any]]:
    code, out, err = cli("log", "--json", *more)
    assert (code, err) == (0, "")
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


@pytest.fixture
def seeded(store: Store) -> FakeClock:
    """Two hours ago: "Standup" to Anna (retried, then delivered) and Ben
    (delivered); then "Lunch" to Anna, rejected. An hour later "Backup" to a
    phone that has been removed since, failed. Five attempts."""
    clock = FakeClock(START)
    attempts = AttemptLog(store, clock)
    anna, ben = attempts.device("Anna's phone"), attempts.device("Ben\x1b[31m")
    attempts.send(
        attempts.reminder("Standup"),
        [anna, ben],
        [RetryLater(503, "busy"), Delivered(201)],
    )
    attempts.send(attempts.reminder("Lunch"), [anna], [Rejected(400, "too large")])
    clock.advance(hours=1)
    old = attempts.device("Old phone", host="updates.push.services.mozilla.com")
    attempts.send(attempts.reminder("Backup"), [old], [Failed(None, "timed out")])
    store.subscriptions.delete(old.id)
    return clock


def test_lists_newest_first_with_every_field(cli: Cli, seeded: FakeClock) -> None:
    rows = log(cli)

    assert [(r["reminder_title"], r["outcome"]) for r in rows] == [
        ("Backup", "failed"),
        ("Lunch", "rejected"),
        ("Standup", "delivered"),
        ("Standup", "delivered"),
        ("Standup", "retry"),
        ("Standup", "retry"),
    ]
    assert rows[0] == {
        "id": rows[0]["id"],
        "attempted_at": utc(START + timedelta(hours=1, seconds=3)),
        "reminder_id": 3,
        "reminder_title": "Backup",
        "occurrence_at": rows[0]["occurrence_at"],
        "device_id": 3,
        "device_name": None,
        "device_removed": True,
        "endpoint_host": "updates.push.services.mozilla.com",
        "outcome": "failed",
        "http_status": None,
        "error": "timed out",
    }
    assert rows[1]["http_status"] == 400
    assert rows[1]["device_name"] == "Anna's phone"
    assert rows[1]["device_removed"] is False


def test_table_shows_local_time_reminder_and_device(
    cli: Cli, seeded: FakeClock
) -> None:
    code, out, err = cli("log")

    assert (code, err) == (0, "")
    header, *lines = out.splitlines()
    assert header.split() == ["TIME", "REMINDER", "DEVICE", "OUTCOME", "HTTP", "ERROR"]
    assert len(lines) == 6
    failed_at = (START + timedelta(hours=1, seconds=3)).astimezone()
    assert lines[0].startswith(failed_at.strftime("%Y-%m-%d %H:%M:%S  #3 Backup"))
    assert re.search(r"#3 removed device\s+failed\s+timed out$", lines[0])
    assert re.search(r"#1 Anna's phone\s+rejected\s+400\s+too large$", lines[1])
    # The device's name came from a phone: no escape sequence reaches the terminal.
    assert "\x1b" not in out
    assert "#2 Ben [31m" in out


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--reminder", "1"], 4),
        (["--reminder", "#2"], 1),
        (["--device", "1"], 3),
        (["--device", "#3"], 1),
        (["--device-name", "anna"], 3),
        (["--outcome", "delivered"], 2),
        (["--outcome", "retry", "--device", "2"], 1),
        (["--reminder", "99"], 0),
    ],
)
def test_filters(
    cli: Cli,
    seeded: FakeClock,
    filters: list[str],
    expected: int,
) -> None:
    assert len(log(cli, *filters)) == expected


def test_from_a_duration_ago(cli: Cli, seeded: FakeClock) -> None:
    rows = log(cli, "--from", "90m")

    assert [r["reminder_title"] for r in rows] == ["Backup"]


def test_time_range_in_iso_8601(cli: Cli, seeded: FakeClock) -> None:
    since = (START + timedelta(seconds=1)).isoformat()
    until = (START + timedelta(seconds=2)).isoformat()

    rows = log(cli, "--from", since, "--until", until)

    assert [(r["reminder_title"], r["outcome"]) for r in rows] == [
        ("Lunch", "rejected"),
        ("Standup", "delivered"),
        ("Standup", "delivered"),
    ]


def test_naive_times_are_local(cli: Cli, seeded: FakeClock) -> None:
    local = (START + timedelta(hours=1)).astimezone().replace(tzinfo=None)

    rows = log(cli, "--from", local.isoformat())

    assert [r["reminder_title"] for r in rows] == ["Backup"]


def test_limit_keeps_the_newest_and_says_how_many_there_are(
    cli: Cli, seeded: FakeClock
) -> None:
    code, out, err = cli("log", "--json", "--limit", "2")

    assert code == 0
    assert [r["reminder_title"] for r in json.loads(out)] == ["Backup", "Lunch"]
    assert err == "(the newest 2 of 6 attempts; --limit 0 shows all)\n"


def test_limit_0_shows_all(cli: Cli, store: Store) -> None:
    attempts = AttemptLog(store, FakeClock(START))
    devices = [attempts.device(f"phone {n}") for n in range(105)]
    attempts.send(attempts.reminder("Everyone"), devices, [Delivered(201)])

    code, out, err = cli("log", "--json")
    assert code == 0
    assert len(json.loads(out)) == 100
    assert "newest 100 of 105" in err

    assert len(log(cli, "--limit", "0")) == 105


def test_empty_log_says_none(cli: Cli, store: Store) -> None:
    assert cli("log") == (0, "(none)\n", "")
    assert log(cli) == []


def test_csv_export_writes_every_match_owner_only(
    cli: Cli,
    seeded: FakeClock,
    tmp_path: Path,
) -> None:
    target = tmp_path / "anna.csv"

    code, out, err = cli("log", "--device", "1", "--csv", str(target))

    assert (code, out) == (0, "")
    assert err == f"3 attempts written to {target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with target.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert tuple(header) == CSV_HEADER
    assert [row[CSV_HEADER.index("outcome")] for row in rows] == [
        "rejected",
        "delivered",
        "retry",
    ]


def test_csv_dash_writes_to_standard_output_without_a_byte_order_mark(
    cli: Cli,
    seeded: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_a_file = tmp_path / "anna.csv"
    cli("log", "--device", "1", "--csv", str(in_a_file))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)

    code, out, err = cli("log", "--device", "1", "--csv", "-")

    assert code == 0
    assert err == "3 attempts written to standard output\n"
    assert list(here.iterdir()) == []
    # The file's bytes but its byte-order mark, which is for spreadsheets.
    assert in_a_file.read_bytes() == codecs.BOM_UTF8 + out.encode()
    header, *rows = list(csv.reader(io.StringIO(out, newline="")))
    assert tuple(header) == CSV_HEADER
    assert len(rows) == 3


def test_csv_into_a_file_named_dash_is_written_as_dot_slash_dash(
    cli: Cli, seeded: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)

    code, out, err = cli("log", "--csv", "./-")

    assert (code, out) == (0, "")
    assert err == "6 attempts written to ./-\n"
    assert (here / "-").read_text(encoding="utf-8-sig").startswith("id,")


def test_csv_into_a_missing_folder_is_one_sentence(
    cli: Cli,
    seeded: FakeClock,
    tmp_path: Path,
) -> None:
    target = tmp_path / "nowhere" / "log.csv"

    code, _, err = cli("log", "--csv", str(target))

    assert code == 1
    assert err.startswith(f"pushdesk: Cannot write {target}: ")
    assert err.count("\n") == 1


def test_limit_does_not_apply_to_csv(
    cli: Cli,
    seeded: FakeClock,
    tmp_path: Path,
) -> None:
    code, _, err = cli("log", "--limit", "5", "--csv", str(tmp_path / "x.csv"))

    assert code == 1
    assert err == (
        "pushdesk: --limit does not apply to --csv, which writes every matching "
        "attempt.\n"
    )
    assert not (tmp_path / "x.csv").exists()


def test_range_backwards_is_refused(cli: Cli, seeded: FakeClock) -> None:
    code, _, err = cli(
        "log", "--from", "2026-12-02T10:00Z", "--until", "2026-12-01T10:00Z"
    )

    assert code == 1
    assert err == "pushdesk: The start of the time range is after its end.\n"


def test_missing_data_folder_is_an_error(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert_refused_without_data(capsys, data_dir, "log")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--outcome", "lost"], "invalid choice: 'lost'"),
        (["--reminder", "first"], "'first' is not an id"),
        (["--device", "0"], "'0' is not an id"),
        (["--from", "yesterday"], "'yesterday' is not an ISO 8601"),
        (["--until", "2026-13-01"], "'2026-13-01' is not an ISO 8601"),
        (["--limit", "-1"], "'-1' is not a number of rows"),
        (["--json", "--csv", "x.csv"], "not allowed with argument --json"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    assert message in cli.usage_error("log", *argv)


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(capsys, "log")

    assert "Example: pushdesk log --outcome failed --from 1d" in out
