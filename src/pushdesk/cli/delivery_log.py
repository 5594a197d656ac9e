"""``pushdesk log``: the delivery log, filtered as in the window's Log tab.

Not named log.py: the package's ``__init__`` holds ``pushdesk.log`` as ``log``,
which a submodule of that name would replace.
"""

import argparse
import codecs
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pushdesk.cli.common import (
    DURATION,
    Verbs,
    add_command,
    complete_as_file,
    local_time,
    open_services,
    parse_datetime,
    parse_duration,
    print_rows,
    row_id,
)
from pushdesk.errors import PushdeskError
from pushdesk.services import Services
from pushdesk.services.deliveries import OUTCOMES, DeliveryQuery, DeliveryRow
from pushdesk.store.db import to_db_time

DEFAULT_LIMIT = 100

# What --csv takes to mean standard output, as `devices import -` reads stdin.
STDOUT = "-"

TABLE_COLUMNS = ["time", "reminder", "device", "outcome", "http", "error"]


def add_commands(verbs: Verbs) -> None:
    log = add_command(
        verbs,
        "log",
        "list delivery attempts, newest first",
        "List delivery attempts, newest first, filtered as in the window's Log "
        "tab. Times are shown in this machine's time zone.",
        "pushdesk log --outcome failed --from 1d",
        "pushdesk log --reminder 12 --json",
        "pushdesk log --from 2026-12-01 --until 2026-12-08 --csv week.csv",
        run=run_log,
    )
    log.add_argument(
        "--reminder", type=row_id, metavar="ID", help="only this reminder's attempts"
    )
    log.add_argument(
        "--device",
        type=row_id,
        metavar="ID",
        help="only attempts to this device (removed ones too)",
    )
    log.add_argument(
        "--device-name",
        metavar="TEXT",
        help="only attempts to devices whose name contains this",
    )
    log.add_argument("--outcome", choices=OUTCOMES, help="only attempts that ended so")
    log.add_argument(
        "--from",
        dest="since",
        type=moment,
        metavar="WHEN",
        help="from this time on: ISO 8601 (local unless it has an offset), or a "
        "duration ago (90s, 5m, 2h, 1d)",
    )
    log.add_argument(
        "--until",
        type=moment,
        metavar="WHEN",
        help="up to this time, as --from",
    )
    log.add_argument(
        "--limit",
        type=count,
        metavar="N",
        help=f"show at most N attempts (default: {DEFAULT_LIMIT}; 0 for all)",
    )
    output = log.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help="print every field as JSON for scripts (names as in the README)",
    )
    csv_file = output.add_argument(
        "--csv",
        metavar="FILE",
        help="write every matching attempt to FILE as CSV (owner-only), as the "
        "window's export does; - writes it to standard output",
    )
    complete_as_file(csv_file)


def moment(text: str) -> datetime | timedelta:
    """A time as given: a datetime, or a timedelta meaning that long ago."""
    # A duration is told from a date by its shape: digits and at most one unit.
    if DURATION.match(text):
        return parse_duration(text)
    given = parse_datetime(text)
    # Naive means this machine's local time, as the window's time boxes.
    return given if given.tzinfo else given.astimezone()


def count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows, like 50")
    return int(text)


def run_log(args: argparse.Namespace) -> int:
    if args.csv is not None and args.limit is not None:
        raise PushdeskError(
            "--limit does not apply to --csv, which writes every matching attempt."
        )
    services = open_services(args, existing=True)
    now = services.now()
    query = DeliveryQuery(
        reminder_id=args.reminder,
        subscription_id=args.device,
        device_text=args.device_name,
        outcome=args.outcome,
        since=_resolve(args.since, now, "--from"),
        until=_resolve(args.until, now, "--until"),
    )

    if args.csv == STDOUT:
        written = _csv_to_stdout(services, query)
        print(f"{written} attempts written to standard output", file=sys.stderr)
        return 0
    if args.csv is not None:
        written = services.deliveries.export_csv(query, Path(args.csv))
        print(f"{written} attempts written to {args.csv}", file=sys.stderr)
        return 0

    total = services.deliveries.count(query)
    limit = DEFAULT_LIMIT if args.limit is None else args.limit
    rows = services.deliveries.page(query, 0, limit or total) if total else []
    if args.json:
        print_rows([_json_row(row) for row in rows], True, [])
    else:
        print_rows([_table_row(row) for row in rows], False, TABLE_COLUMNS)
    if len(rows) < total:
        print(
            f"(the newest {len(rows)} of {total} attempts; --limit 0 shows all)",
            file=sys.stderr,
        )
    return 0


def _csv_to_stdout(services: Services, query: DeliveryQuery) -> int:
    """The CSV export, on standard output; returns how many rows it holds."""
    # Straight to the bytes under sys.stdout: its text layer would turn the
    # rows' CRLF into CRCRLF on Windows.
    sys.stdout.flush()
    out = codecs.getwriter("utf-8")(sys.stdout.buffer)
    written = services.deliveries.write_csv(query, out)
    sys.stdout.buffer.flush()
    return written


def _resolve(
    given: datetime | timedelta | None, now: datetime, option: str
) -> datetime | None:
    if not isinstance(given, timedelta):
        return given
    try:
        return now - given
    except OverflowError:
        raise PushdeskError(f"{option} goes back further than any date.") from None


def _json_row(row: DeliveryRow) -> dict[str, Any]:
    delivery = row.delivery
    occurrence = delivery.occurrence_at
    return {
        "id": delivery.id,
        "attempted_at": to_db_time(delivery.attempted_at),
        "reminder_id": delivery.reminder_id,
        "reminder_title": row.reminder_title,
        "occurrence_at": to_db_time(occurrence) if occurrence else None,
        "device_id": delivery.subscription_id,
        "device_name": row.device_label,
        "device_removed": not row.device_exists,
        "endpoint_host": delivery.endpoint_host,
        "outcome": delivery.outcome,
        "http_status": delivery.status_code,
        "error": delivery.error,
    }


def _table_row(row: DeliveryRow) -> dict[str, Any]:
    delivery = row.delivery
    return {
        "time": local_time(delivery.attempted_at, seconds=True),
        "reminder": row.reminder,
        "device": _device(row),
        "outcome": delivery.outcome,
        "http": delivery.status_code,
        "error": delivery.error,
    }


def _device(row: DeliveryRow) -> str:
    number = row.delivery.subscription_id
    if not row.device_exists:
        return f"#{number} removed device"
    return f"#{number} {row.device_label or 'unnamed device'}"
