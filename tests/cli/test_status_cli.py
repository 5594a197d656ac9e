"""``pushdesk status``: the health check, against a real data folder.

The command reads the system clock, so the heartbeats and attempts written
here are placed relative to the real time (a FakeClock set to now).
"""

import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pushdesk.config import DATA_DIR_ENV, DATABASE_NAME
from pushdesk.domain import (
    ENGINE_SILENCE,
    CredentialsRefused,
    Delivered,
    Failed,
    Gone,
    ReminderDraft,
    RetryLater,
)
from pushdesk.services.sending import SENDING_PAUSED
from pushdesk.store import Store
from tests.support.attempts import AttemptLog
from tests.support.cli import (
    Cli,
    assert_refused_without_data,
    facts,
    help_text,
    run,
    utc,
)
from tests.support.clock import FakeClock


def test_fresh_heartbeat_is_healthy(
    cli: Cli, data_dir: Path, store: Store, clock: FakeClock
) -> None:
    store.sends.heartbeat("engine-1", clock() - timedelta(seconds=2))

    code, out, err = cli("status", "--json")

    assert code == 0
    assert err == ""
    report = json.loads(out)
    assert report["healthy"] is True
    assert report["running"] is True
    assert report["problem"] is None
    assert report["data_dir"] == str(data_dir)
    assert report["alerts"] == []


def test_stale_heartbeat_exits_1_saying_since_when(
    cli: Cli, data_dir: Path, store: Store, clock: FakeClock
) -> None:
    last = clock() - timedelta(minutes=5, seconds=3)
    store.sends.heartbeat("engine-1", last)

    code, out, err = cli("status", "--json")

    assert code == 1
    assert err == (
        f"pushdesk: No pushdesk is running on {data_dir} (last heartbeat 5 min ago).\n"
    )
    report = json.loads(out)
    assert report["healthy"] is False
    assert report["running"] is False
    assert report["last_heartbeat_at"] == utc(last)
    assert report["problem"] == err.removeprefix("pushdesk: ").strip()


def test_heartbeat_just_past_the_silence_is_not_running(
    cli: Cli, store: Store, clock: FakeClock
) -> None:
    store.sends.heartbeat("engine-1", clock() - ENGINE_SILENCE - timedelta(seconds=2))

    code, _, err = cli("status")

    assert code == 1
    assert "No pushdesk is running" in err
    assert "s ago)." in err


def test_clean_stop_leaves_no_heartbeat(
    cli: Cli, data_dir: Path, store: Store, clock: FakeClock
) -> None:
    store.sends.heartbeat("engine-1", clock())
    store.sends.retire("engine-1")

    code, out, err = cli("status")

    assert code == 1
    assert err == f"pushdesk: No pushdesk is running on {data_dir}.\n"
    assert facts(out)["running"] == "no (no heartbeat since the last clean stop)"


def test_standing_alert_makes_a_running_pushdesk_unhealthy(
    cli: Cli, data_dir: Path, store: Store, clock: FakeClock
) -> None:
    store.sends.heartbeat("engine-1", clock())
    store.alerts.raise_once("credentials:x", "fcm refuses the key.", clock())

    code, out, err = cli("status")

    assert code == 1
    assert err == (
        f"pushdesk: There is a standing alert on {data_dir}: fcm refuses the key.\n"
    )
    assert facts(out)["status"] == "unhealthy"
    assert facts(out)["alert 1"] == "fcm refuses the key."


def test_several_alerts_name_the_oldest(
    cli: Cli, store: Store, clock: FakeClock
) -> None:
    store.sends.heartbeat("engine-1", clock())
    store.alerts.raise_once("a", "The disk is full.", clock() - timedelta(minutes=1))
    store.alerts.raise_once("b", "fcm refuses the key.", clock())

    code, out, err = cli("status", "--json")

    assert code == 1
    assert "There are 2 standing alerts" in err
    assert err.endswith("the oldest: The disk is full.\n")
    assert json.loads(out)["alerts"] == ["The disk is full.", "fcm refuses the key."]


def test_counts_devices_waiting_reminders_and_recent_failures(
    cli: Cli, store: Store, clock: FakeClock
) -> None:
    log = AttemptLog(store, clock)
    anna, ben = log.device("Anna"), log.device("Ben")
    clock.advance(hours=-30)
    log.send(log.reminder("Old failure"), [anna], [Failed(None, "timeout")])
    clock.advance(hours=29)
    log.send(log.reminder("Half failed"), [anna, ben], [Failed(500, "e")])
    log.send(log.reminder("Refused"), [ben], [CredentialsRefused(403, "e")])
    # Neither a retry that then got through nor a device gone is a failure.
    log.send(log.reminder("Fine"), [ben], [RetryLater(503, "e"), Delivered(201)])
    log.send(log.reminder("Gone"), [log.device("Carl")], [Gone(410)])
    draft = ReminderDraft("Later", "m", None, clock() + timedelta(days=1))
    store.reminders.add(draft, clock())
    store.settings.set(SENDING_PAUSED, "1")
    store.sends.heartbeat("engine-1", datetime.now(UTC))

    code, out, _ = cli("status", "--json")

    report = json.loads(out)
    assert code == 0
    assert report["devices"] == 2
    assert report["scheduled_reminders"] == 1
    assert report["failed_reminders_24h"] == 2
    assert report["sending_paused"] is True


def test_plain_report_has_one_line_per_fact(
    cli: Cli, data_dir: Path, store: Store, clock: FakeClock
) -> None:
    store.sends.heartbeat("engine-1", clock())

    code, out, _ = cli("status")

    assert code == 0
    report = facts(out)
    assert list(report) == [
        "status",
        "data dir",
        "running",
        "devices",
        "scheduled reminders",
        "failed reminders 24h",
        "sending",
        "alerts",
    ]
    assert report["status"] == "healthy"
    assert report["data dir"] == str(data_dir)
    assert re.fullmatch(r"yes \(last heartbeat \d s ago\)", report["running"])
    assert report["devices"] == "0"
    assert report["sending"] == "on"
    assert report["alerts"] == "0"


def test_missing_data_folder_is_an_error_not_created(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert_refused_without_data(capsys, data_dir, "status")


def test_missing_data_folder_still_answers_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "typo"

    code, out, err = run(capsys, "status", "--json", "--data-dir", str(missing))

    assert code == 1
    assert err == (
        f"pushdesk: There is no pushdesk data in {missing}; check --data-dir "
        f"or ${DATA_DIR_ENV}.\n"
    )
    report = json.loads(out)
    assert report["healthy"] is False
    assert report["problem"] == err.removeprefix("pushdesk: ").strip()
    assert report["data_dir"] == str(missing)
    assert report["running"] is None
    assert not missing.exists()


def _damaged(database: Path) -> None:
    database.write_bytes(b"not a database, " * 512)
    database.chmod(0o600)


def _a_folder(database: Path) -> None:
    database.mkdir()


def _without_alerts(database: Path) -> None:
    Store.open(database).db.close()
    with closing(sqlite3.connect(database)) as db:
        db.execute("DROP TABLE alerts")
        db.commit()


@pytest.mark.parametrize(
    ("breakage", "sentence"),
    [
        (_damaged, "The database is damaged ("),
        (_a_folder, "Cannot open the database "),
        (_without_alerts, "The database cannot be read (no such table: alerts)."),
    ],
    ids=["damaged", "a folder", "a table missing"],
)
def test_unreadable_database_still_answers_json_with_every_field(
    capsys: pytest.CaptureFixture[str],
    cli: Cli,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    breakage: Callable[[Path], None],
    sentence: str,
) -> None:
    store.sends.heartbeat("engine-1", clock())
    fields = list(json.loads(cli("status", "--json")[1]))
    broken = tmp_path / "broken"
    broken.mkdir(mode=0o700)
    breakage(broken / DATABASE_NAME)

    code, out, err = run(capsys, "status", "--json", "--data-dir", str(broken))

    assert code == 1
    assert err.startswith(f"pushdesk: {sentence}")
    assert err.count("\n") == 1
    report = json.loads(out)
    assert list(report) == fields
    assert report["healthy"] is False
    assert report["problem"] == err.removeprefix("pushdesk: ").strip()
    assert report["alerts"] is None


def test_unknown_option_is_a_usage_error(cli: Cli) -> None:
    err = cli.usage_error("status", "--verbose")

    assert "unrecognized arguments: --verbose" in err


def test_help_ends_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert "Example: pushdesk status" in help_text(capsys, "status")
