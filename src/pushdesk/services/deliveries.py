"""The delivery log: every attempt to reach a device, for the operator to read.

Listing and export share one query type, so the CSV holds exactly the rows the
window shows. Nothing here writes to the database, so nothing is published.
"""

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from pushdesk.clock import Clock
from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.log import STORE
from pushdesk.store import Store
from pushdesk.store.db import to_db_time
from pushdesk.store.deliveries import SORT_COLUMNS, DeliveryQuery, DeliveryRow

# What the delivery engine writes in ``deliveries.outcome`` (see
# pushdesk.domain.outcome_name), in the order the window offers them.
OUTCOMES = ("delivered", "retry", "gone", "rejected", "refused", "failed")
SORTS = tuple(SORT_COLUMNS)

# Rows per chunk of an export: about 10 ms of work (reading, formatting and
# writing a row takes some 20 µs), so the window stays smooth in between; the
# keyset query per chunk costs well under a millisecond.
EXPORT_CHUNK = 500
MAX_DEVICE_TEXT = 200

CSV_HEADER = (
    "id",
    "attempted_at_utc",
    "attempted_at_local",
    "reminder_id",
    "reminder_title",
    "occurrence_at_utc",
    "device_id",
    "device",
    "endpoint_host",
    "outcome",
    "http_status",
    "error",
)

# A spreadsheet runs a cell starting with one of these as a formula; device
# labels come from visitors' phones, so such text is defused with a quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int], None]  # (rows written, rows in all)


MAX_ID = 2**63 - 1  # SQLite's largest integer


def device_filter(text: str) -> tuple[int | None, str | None]:
    """Read a device box: ``12`` or ``#12`` is an id, other text part of a label."""
    text = text.strip()
    number = text.removeprefix("#")
    # Larger than any SQLite integer: no device has it, so it filters all out.
    if number.isdigit():
        return min(int(number), MAX_ID), None
    return None, text or None


class TextSink(Protocol):
    """Where a CSV export can go: a text file opened with ``newline=""``, or
    a UTF-8 writer over a binary stream."""

    def write(self, text: str, /) -> object: ...


class CsvExport:
    """One export in progress, written a chunk at a time.

    The rows go to a temporary file beside ``path`` that replaces it only
    once complete, so a failed or cancelled export leaves nothing half-written.
    """

    def __init__(self, chunks: Iterator[list[DeliveryRow]], total: int, path: Path):
        self.path = path
        self.total = total
        self.written = 0
        self._chunks = chunks
        try:
            # mkstemp makes the file owner-only, which suits a log of devices.
            handle, name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".part"
            )
        except OSError as exc:
            raise _cannot_write(path, exc) from exc
        self._temp = Path(name)

        # utf-8-sig: the byte-order mark makes spreadsheets read the text as
        # UTF-8 rather than the system's legacy code page.
        self._file: IO[str] = open(  # noqa: SIM115 (closed by finish or abort)
            handle, "w", encoding="utf-8-sig", newline=""
        )
        self._writer = csv.writer(self._file)
        self._guard(lambda: self._writer.writerow(CSV_HEADER))

    def step(self) -> bool:
        """Write the next chunk; True once the file is complete and in place."""
        chunk = next(self._chunks, None)
        if chunk is None:
            self._guard(self._finish)
            return True
        self._guard(lambda: self._writer.writerows(_csv_row(row) for row in chunk))
        self.written += len(chunk)
        return False

    def abort(self) -> None:
        """Stop and remove the partial file; the target is left as it was."""
        if not self._file.closed:
            self._file.close()
        self._temp.unlink(missing_ok=True)

    def _finish(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self.path)

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            self.abort()
            raise _cannot_write(self.path, exc) from exc


class DeliveryLogService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def check(self, query: DeliveryQuery) -> DeliveryQuery:
        """The query tidied (blank text dropped); InvalidInput if it makes no sense."""
        text = (query.device_text or "").strip() or None
        if text is not None and len(text) > MAX_DEVICE_TEXT:
            raise InvalidInput(
                "The device name to look for is too long.", "device_text"
            )
        for field in ("reminder_id", "subscription_id"):
            number = getattr(query, field)
            if number is not None and number < 1:
                raise InvalidInput("An id is a whole number from 1 up.", field)
        if query.outcome is not None and query.outcome not in OUTCOMES:
            raise InvalidInput(f"There is no outcome “{query.outcome}”.", "outcome")
        if query.sort not in SORTS:
            raise InvalidInput(f"The log cannot be sorted by “{query.sort}”.", "sort")
        _check_range(query.since, query.until)
        return replace(query, device_text=text)

    def count(self, query: DeliveryQuery) -> int:
        return self._store.deliveries.count(self.check(query))

    def page(self, query: DeliveryQuery, offset: int, limit: int) -> list[DeliveryRow]:
        return self._store.deliveries.page(self.check(query), offset, limit)

    def suggested_file_name(self) -> str:
        return f"pushdesk-deliveries-{self._clock().astimezone():%Y%m%d-%H%M}.csv"

    def start_export(
        self, query: DeliveryQuery, path: Path, chunk: int = EXPORT_CHUNK
    ) -> CsvExport:
        """Begin writing the rows of ``query`` as logged now; step it to finish."""
        query = self.check(query)
        deliveries = self._store.deliveries
        last = deliveries.last_id()
        total = deliveries.count(query, up_to_id=last)
        return CsvExport(deliveries.stream(query, chunk, last), total, path)

    def write_csv(
        self, query: DeliveryQuery, out: TextSink, chunk: int = EXPORT_CHUNK
    ) -> int:
        """Write the rows of ``query`` as logged now to ``out``, which must not
        translate newlines (the rows end in CRLF); returns how many.

        Unlike a file export it writes no byte-order mark: that is for
        spreadsheets opening a file, and a program reading a pipe would take it
        for part of the first column's name.
        """
        query = self.check(query)
        deliveries = self._store.deliveries
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)

        written = 0
        for rows in deliveries.stream(query, chunk, deliveries.last_id()):
            writer.writerows(_csv_row(row) for row in rows)
            written += len(rows)
        return written

    def export_csv(
        self, query: DeliveryQuery, path: Path, progress: Progress | None = None
    ) -> int:
        """Write the rows of ``query`` to ``path`` as CSV; returns how many."""
        export = self.start_export(query, path)
        try:
            while not export.step():
                if progress is not None:
                    progress(export.written, export.total)
        except BaseException:
            export.abort()
            raise
        if progress is not None:
            progress(export.written, export.total)
        STORE.info("exported %d deliveries to %s", export.written, path)
        return export.written


def _check_range(since: datetime | None, until: datetime | None) -> None:
    for field, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("A time needs its time zone.", field)
    if since is not None and until is not None and since > until:
        raise InvalidInput("The start of the time range is after its end.", "until")


def _csv_row(row: DeliveryRow) -> tuple[object, ...]:
    delivery = row.delivery
    occurrence = delivery.occurrence_at
    return (
        delivery.id,
        to_db_time(delivery.attempted_at),
        delivery.attempted_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        delivery.reminder_id,
        _defused(row.reminder_title or ""),
        to_db_time(occurrence) if occurrence else "",
        delivery.subscription_id,
        _defused(row.device),
        delivery.endpoint_host,
        delivery.outcome,
        "" if delivery.status_code is None else delivery.status_code,
        _defused(delivery.error or ""),
    )


def _defused(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _cannot_write(path: Path, exc: OSError) -> PushdeskError:
    return PushdeskError(f"Cannot write {path}: {exc.strerror or exc}.")


__all__ = [
    "CSV_HEADER",
    "EXPORT_CHUNK",
    "OUTCOMES",
    "SORTS",
    "CsvExport",
    "DeliveryLogService",
    "DeliveryQuery",
    "DeliveryRow",
    "Progress",
    "TextSink",
    "device_filter",
]
