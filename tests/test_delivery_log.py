"""The delivery log service: checking filters and exporting CSV."""

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Failed,
    Gone,
    Rejected,
    RetryLater,
    outcome_name,
)
from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.services import Services
from pushdesk.services.deliveries import (
    CSV_HEADER,
    OUTCOMES,
    DeliveryQuery,
    device_filter,
)
from pushdesk.store import Store
from tests.support.attempts import AttemptLog
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH


@pytest.fixture
def log(store: Store, clock: FakeClock) -> AttemptLog:
    return AttemptLog(store, clock)


@pytest.fixture
def seeded(log: AttemptLog) -> None:
    """Reminder 1 reached two devices after a retry; reminder 2 failed on one."""
    anna, ben = log.device("Anna's phone"), log.device("Ben's laptop")
    log.send(
        log.reminder("Standup"), [anna, ben], [RetryLater(503, "busy"), Delivered(201)]
    )
    log.send(log.reminder("Lunch"), [anna], [Rejected(400, "payload, too large")])


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder of its own for exports (tmp_path also holds the database)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def test_every_outcome_the_engine_writes_can_be_filtered() -> None:
    written = {
        outcome_name(outcome)
        for outcome in (
            Delivered(201),
            Gone(410),
            Rejected(400, "e"),
            CredentialsRefused(403, "e"),
            RetryLater(503, "e"),
            Failed(None, "e"),
        )
    }

    assert written == set(OUTCOMES)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (DeliveryQuery(reminder_id=0), "reminder_id"),
        (DeliveryQuery(subscription_id=-3), "subscription_id"),
        (DeliveryQuery(outcome="lost"), "outcome"),
        (DeliveryQuery(sort="title"), "sort"),
        (DeliveryQuery(device_text="x" * 201), "device_text"),
        (DeliveryQuery(since=datetime(2026, 12, 3, 9, 0)), "since"),
        (
            DeliveryQuery(
                since=datetime(2026, 12, 3, 10, tzinfo=UTC),
                until=datetime(2026, 12, 3, 9, tzinfo=UTC),
            ),
            "until",
        ),
    ],
)
def test_bad_filters_are_refused_with_the_field(
    services: Services, query: DeliveryQuery, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.deliveries.count(query)

    assert refused.value.field == field


def test_blank_device_text_filters_nothing(services: Services, seeded: None) -> None:
    query = services.deliveries.check(DeliveryQuery(device_text="   "))

    assert query.device_text is None
    assert services.deliveries.count(query) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", (12, None)),
        (" #7 ", (7, None)),
        ("Anna", (None, "Anna")),
        ("#x", (None, "#x")),
        ("", (None, None)),
    ],
)
def test_device_box_reads_an_id_or_a_name(
    text: str, expected: tuple[int | None, str | None]
) -> None:
    assert device_filter(text) == expected


def test_export_writes_only_the_filtered_rows(
    services: Services, seeded: None, out_dir: Path
) -> None:
    target = out_dir / "log.csv"
    query = DeliveryQuery(device_text="anna")

    written = services.deliveries.export_csv(query, target)

    header, *rows = read_csv(target)
    assert header == list(CSV_HEADER)
    assert written == len(rows) == 3
    expected = services.deliveries.page(query, 0, 100)
    assert [int(row[0]) for row in rows] == [r.delivery.id for r in expected]
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    local = expected[0].delivery.attempted_at.astimezone()
    assert by_name[0] == {
        "id": str(expected[0].delivery.id),
        "attempted_at_utc": "2026-12-03T09:00:02Z",
        "attempted_at_local": local.strftime("%Y-%m-%d %H:%M:%S"),
        "reminder_id": "2",
        "reminder_title": "Lunch",
        "occurrence_at_utc": "2026-12-03T09:00:02Z",
        "device_id": "1",
        "device": "Anna's phone",
        "endpoint_host": "fcm.googleapis.com",
        "outcome": "rejected",
        "http_status": "400",
        "error": "payload, too large",
    }
    assert [row["outcome"] for row in by_name] == ["rejected", "delivered", "retry"]


def test_export_holds_no_push_secrets(
    services: Services, seeded: None, out_dir: Path
) -> None:
    target = out_dir / "log.csv"

    services.deliveries.export_csv(DeliveryQuery(), target)

    text = target.read_text(encoding="utf-8-sig")
    assert "fcm.googleapis.com" in text
    for secret in (P256DH, AUTH, "/fcm/send/", "token-1"):
        assert secret not in text


def test_export_defuses_spreadsheet_formulas(
    services: Services, log: AttemptLog, out_dir: Path
) -> None:
    device = log.device('=HYPERLINK("http://evil.example")')
    log.send(log.reminder("+SUM(A1)"), [device], [Delivered(201)])
    target = out_dir / "log.csv"

    services.deliveries.export_csv(DeliveryQuery(), target)

    [row] = read_csv(target)[1:]
    assert row[4] == "'+SUM(A1)"
    assert row[7] == '\'=HYPERLINK("http://evil.example")'


def test_export_reports_progress_chunk_by_chunk(
    services: Services, log: AttemptLog, out_dir: Path
) -> None:
    devices = [log.device(f"d{n}") for n in range(3)]
    log.send(
        log.reminder("R"), devices, [RetryLater(503, "busy")] * 3 + [Delivered(201)]
    )
    export = services.deliveries.start_export(
        DeliveryQuery(), out_dir / "log.csv", chunk=5
    )

    seen = []
    while not export.step():
        seen.append((export.written, export.total))

    assert seen == [(5, 12), (10, 12), (12, 12)]
    assert len(read_csv(out_dir / "log.csv")) == 13


def test_export_progress_callback_ends_at_the_total(
    services: Services, seeded: None, out_dir: Path
) -> None:
    seen: list[tuple[int, int]] = []

    services.deliveries.export_csv(
        DeliveryQuery(), out_dir / "log.csv", progress=lambda *p: seen.append(p)
    )

    assert seen[-1] == (5, 5)


def test_export_appears_only_when_complete(
    services: Services, seeded: None, out_dir: Path
) -> None:
    target = out_dir / "log.csv"
    target.write_text("the previous export\n")
    export = services.deliveries.start_export(DeliveryQuery(), target, chunk=2)

    export.step()
    assert target.read_text() == "the previous export\n"

    while not export.step():
        pass
    assert len(read_csv(target)) == 6
    assert list(out_dir.iterdir()) == [target]


@pytest.mark.parametrize("query", [DeliveryQuery(), DeliveryQuery(device_text="Anna")])
def test_a_stream_gets_the_files_rows_without_a_byte_order_mark(
    services: Services, seeded: None, out_dir: Path, query: DeliveryQuery
) -> None:
    in_a_file = out_dir / "log.csv"
    in_the_file = services.deliveries.export_csv(query, in_a_file)
    stream = io.StringIO(newline="")

    in_the_stream = services.deliveries.write_csv(query, stream, chunk=2)

    assert in_the_stream == in_the_file == services.deliveries.count(query)
    expected = in_a_file.read_bytes().removeprefix(codecs.BOM_UTF8).decode()
    assert stream.getvalue() == expected
    assert stream.getvalue().startswith(",".join(CSV_HEADER) + "\r\n")


def test_a_stream_export_checks_its_filters_first(services: Services) -> None:
    stream = io.StringIO(newline="")

    with pytest.raises(InvalidInput) as refused:
        services.deliveries.write_csv(DeliveryQuery(reminder_id=0), stream)

    assert refused.value.field == "reminder_id"
    assert stream.getvalue() == ""


def test_cancelled_export_leaves_the_old_file(
    services: Services, seeded: None, out_dir: Path
) -> None:
    target = out_dir / "log.csv"
    target.write_text("the previous export\n")
    export = services.deliveries.start_export(DeliveryQuery(), target, chunk=2)
    export.step()

    export.abort()

    assert target.read_text() == "the previous export\n"
    assert list(out_dir.iterdir()) == [target]


@pytest.mark.parametrize(
    "where",
    ["missing folder", "folder is a file", "target is a folder"],
)
def test_unwritable_target_is_a_clear_error_and_writes_nothing(
    services: Services, seeded: None, out_dir: Path, where: str
) -> None:
    blocker = out_dir / "blocker"
    if where == "missing folder":
        target = out_dir / "nowhere" / "log.csv"
    elif where == "folder is a file":
        blocker.write_text("a file, not a folder")
        target = blocker / "log.csv"
    else:
        blocker.mkdir()
        target = blocker

    with pytest.raises(PushdeskError) as failed:
        services.deliveries.export_csv(DeliveryQuery(), target)

    assert str(failed.value).startswith(f"Cannot write {target}: ")
    assert "Traceback" not in str(failed.value)
    leftovers = sorted(p.name for p in out_dir.rglob("*"))
    assert leftovers == ([] if where == "missing folder" else ["blocker"])


def test_suggested_file_name_carries_the_date(
    services: Services, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC) + timedelta(days=1)

    name = services.deliveries.suggested_file_name()

    assert name.startswith("pushdesk-deliveries-2026120")
    assert name.endswith(".csv")


def test_a_device_number_beyond_any_id_finds_nothing_instead_of_failing(
    services: Services,
) -> None:
    subscription_id, text = device_filter("99999999999999999999")
    query = DeliveryQuery(subscription_id=subscription_id, device_text=text)

    assert services.deliveries.count(query) == 0
