"""The delivery log tab: its filters drive the table, headers sort it, and it
exports what it shows without stalling the window."""

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, QPoint, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from pushdesk.domain import Delivered, Gone, Rejected, RetryLater
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.ui.formatting import local_time
from pushdesk.ui.pages.log import OUTCOME_COLOURS, DeliveryLogModel, DeliveryLogPage
from tests.support.attempts import AttemptLog
from tests.support.clock import FakeClock

TIME, REMINDER, DEVICE, OUTCOME, STATUS, ERROR = range(6)


@pytest.fixture
def log(store: Store, clock: FakeClock) -> AttemptLog:
    return AttemptLog(store, clock)


@pytest.fixture
def seeded(log: AttemptLog) -> None:
    """Reminder 1 reached two devices after a retry; reminder 2 was refused."""
    anna, ben = log.device("Anna's phone"), log.device("Ben's laptop")
    log.send(
        log.reminder("Standup"), [anna, ben], [RetryLater(503, "busy"), Delivered(201)]
    )
    log.send(log.reminder("Lunch"), [anna], [Rejected(400, "payload too large")])


@pytest.fixture
def many(log: AttemptLog) -> None:
    """450 attempts: more than two pages of the table."""
    devices = [log.device(f"device {n}") for n in range(5)]
    outcomes = [RetryLater(503, "busy")] * 89 + [Delivered(201)]
    log.send(log.reminder("Big"), devices, outcomes)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def open_page(qtbot: QtBot, services: Services) -> DeliveryLogPage:
    page = DeliveryLogPage(services)
    qtbot.addWidget(page)
    page.resize(1100, 500)
    page.show()
    return page


def cell(model: DeliveryLogModel, row: int, column: int) -> str:
    return str(model.data(model.index(row, column)))


def column(model: DeliveryLogModel, number: int) -> list[str]:
    return [cell(model, row, number) for row in range(model.rowCount())]


def click_header(page: DeliveryLogPage, section: int, qtbot: QtBot) -> None:
    header = page.view.horizontalHeader()
    where = QPoint(header.sectionViewportPosition(section) + 10, 5)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=where)


def qt_time(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def test_rows_show_each_attempt_newest_first(
    qtbot: QtBot, services: Services, clock: FakeClock, seeded: None
) -> None:
    page = open_page(qtbot, services)

    model = page.model
    assert model.rowCount() == 5
    assert [cell(model, 0, n) for n in range(6)] == [
        local_time(clock.now - timedelta(seconds=1), seconds=True),
        "#2 Lunch",
        "Anna's phone",
        "rejected",
        "400",
        "payload too large",
    ]
    assert column(model, OUTCOME) == [
        "rejected",
        "delivered",
        "delivered",
        "will retry",
        "will retry",
    ]
    assert page.status_label.text() == "5 attempts"


def test_outcome_is_shown_with_colour_and_icon(
    qtbot: QtBot, services: Services, seeded: None
) -> None:
    page = open_page(qtbot, services)
    model = page.model

    rejected, delivered = model.index(0, OUTCOME), model.index(1, OUTCOME)

    assert (
        model.data(rejected, Qt.ItemDataRole.ForegroundRole)
        == OUTCOME_COLOURS["rejected"]
    )
    assert (
        model.data(delivered, Qt.ItemDataRole.ForegroundRole)
        == OUTCOME_COLOURS["delivered"]
    )
    for index in (rejected, delivered):
        icon = model.data(index, Qt.ItemDataRole.DecorationRole)
        assert isinstance(icon, QIcon)
        assert not icon.isNull()
    assert model.data(model.index(0, REMINDER), Qt.ItemDataRole.DecorationRole) is None


def test_outcome_filter_narrows_the_table(
    qtbot: QtBot, services: Services, seeded: None
) -> None:
    page = open_page(qtbot, services)

    page.outcome_box.setCurrentIndex(page.outcome_box.findData("delivered"))

    assert column(page.model, OUTCOME) == ["delivered", "delivered"]
    assert page.query.outcome == "delivered"
    assert page.status_label.text() == "2 attempts"


def test_reminder_box_filters_once_typing_pauses(
    qtbot: QtBot, services: Services, seeded: None
) -> None:
    page = open_page(qtbot, services)

    page.reminder_box.setValue(2)

    assert page.model.rowCount() == 5  # not on every keystroke
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert column(page.model, REMINDER) == ["#2 Lunch"]


@pytest.mark.parametrize(
    ("text", "devices"),
    [
        ("ben", ["Ben's laptop"] * 2),
        ("#1", ["Anna's phone"] * 3),
        ("2", ["Ben's laptop"] * 2),
        ("nobody", []),
    ],
)
def test_device_box_takes_a_name_or_an_id(
    qtbot: QtBot, services: Services, seeded: None, text: str, devices: list[str]
) -> None:
    page = open_page(qtbot, services)

    qtbot.keyClicks(page.device_box, text)
    qtbot.keyClick(page.device_box, Qt.Key.Key_Return)

    assert column(page.model, DEVICE) == devices


def test_time_range_narrows_to_the_attempts_within(
    qtbot: QtBot, services: Services, clock: FakeClock, seeded: None
) -> None:
    page = open_page(qtbot, services)
    second = clock.now - timedelta(seconds=2)  # the delivered attempts

    page.since_check.setChecked(True)
    page.since_edit.setDateTime(qt_time(second))
    assert column(page.model, OUTCOME) == ["rejected", "delivered", "delivered"]

    page.until_check.setChecked(True)
    page.until_edit.setDateTime(qt_time(second))
    assert column(page.model, OUTCOME) == ["delivered", "delivered"]

    page.since_check.setChecked(False)
    assert page.model.rowCount() == 4


def test_turning_a_bound_on_starts_from_the_current_time(
    qtbot: QtBot, services: Services, clock: FakeClock, seeded: None
) -> None:
    page = open_page(qtbot, services)
    clock.advance(days=3)  # the window has been open a while

    page.until_check.setChecked(True)
    page.since_check.setChecked(True)

    assert page.until_edit.dateTime() == qt_time(clock.now)
    assert page.since_edit.dateTime() == qt_time(clock.now - timedelta(days=1))
    assert page.since_edit.isEnabled()
    assert page.model.rowCount() == 0  # nothing logged in the last day


def test_a_backwards_range_is_explained_and_the_rows_stay(
    qtbot: QtBot, services: Services, clock: FakeClock, seeded: None
) -> None:
    page = open_page(qtbot, services)
    second = clock.now - timedelta(seconds=2)
    page.since_check.setChecked(True)
    page.since_edit.setDateTime(qt_time(second))
    page.until_check.setChecked(True)

    page.until_edit.setDateTime(qt_time(second - timedelta(hours=1)))

    assert "after its end" in page.status_label.text()
    assert page.query.until == clock.now  # the last range that made sense
    assert page.model.rowCount() == 3
    page.refresh()
    assert "after its end" in page.status_label.text()

    page.until_check.setChecked(False)
    assert page.status_label.text() == "3 attempts"


def test_show_reminder_replaces_the_other_filters(
    qtbot: QtBot, services: Services, seeded: None
) -> None:
    page = open_page(qtbot, services)
    page.outcome_box.setCurrentIndex(page.outcome_box.findData("rejected"))
    page.since_check.setChecked(True)

    page.show_reminder(1)

    assert page.reminder_box.value() == 1
    assert page.outcome_box.currentData() is None
    assert not page.since_check.isChecked()
    assert not page.since_edit.isEnabled()
    assert column(page.model, REMINDER) == ["#1 Standup"] * 4


def test_show_device_finds_a_removed_device(
    qtbot: QtBot, services: Services, log: AttemptLog
) -> None:
    gone = log.device("Old tablet", host="updates.push.services.mozilla.com")
    log.send(log.reminder("R"), [gone, log.device("Other")], [Gone(410)])
    page = open_page(qtbot, services)

    page.show_device(gone.id)

    assert page.device_box.text() == f"#{gone.id}"
    assert column(page.model, DEVICE) == [
        f"removed device #{gone.id} (updates.push.services.mozilla.com)"
    ]


def test_header_clicks_sort_and_flip_the_order(
    qtbot: QtBot, services: Services, seeded: None
) -> None:
    page = open_page(qtbot, services)

    click_header(page, OUTCOME, qtbot)
    assert (page.query.sort, page.query.descending) == ("outcome", False)
    assert column(page.model, OUTCOME) == sorted(column(page.model, OUTCOME))
    assert cell(page.model, 0, OUTCOME) == "delivered"

    click_header(page, OUTCOME, qtbot)
    assert page.query.descending is True
    assert cell(page.model, 0, OUTCOME) == "will retry"

    click_header(page, REMINDER, qtbot)
    assert (page.query.sort, page.query.descending) == ("reminder", False)
    assert column(page.model, REMINDER)[0] == "#1 Standup"


def test_a_column_without_an_order_leaves_the_sort(
    qtbot: QtBot, services: Services, seeded: None
) -> None:
    page = open_page(qtbot, services)
    click_header(page, OUTCOME, qtbot)

    click_header(page, DEVICE, qtbot)

    header = page.view.horizontalHeader()
    assert (page.query.sort, page.query.descending) == ("outcome", False)
    assert header.sortIndicatorSection() == OUTCOME
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder


def test_scrolling_to_the_end_reads_only_the_pages_shown(
    qtbot: QtBot,
    services: Services,
    many: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offsets: list[int] = []
    read = services.deliveries.page

    def spy(query: object, offset: int, limit: int) -> object:
        offsets.append(offset)
        return read(query, offset, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(services.deliveries, "page", spy)
    page = open_page(qtbot, services)

    page.view.scrollToBottom()
    qtbot.waitUntil(lambda: 400 in offsets)

    assert page.model.rowCount() == 450
    assert cell(page.model, 449, REMINDER) == "#1 Big"
    assert cell(page.model, 449, OUTCOME) == "will retry"
    assert 200 not in offsets


def test_refresh_waits_while_the_tab_is_hidden(
    qtbot: QtBot, services: Services, log: AttemptLog, seeded: None
) -> None:
    page = open_page(qtbot, services)
    page.hide()
    log.send(log.reminder("New"), [log.device("Cleo")], [Delivered(201)])

    page.refresh()
    assert page.model.rowCount() == 5

    page.show()
    assert page.model.rowCount() == 6
    assert cell(page.model, 0, REMINDER) == "#3 New"


def test_export_writes_the_filtered_rows_a_chunk_per_turn(
    qtbot: QtBot, services: Services, many: None, out_dir: Path
) -> None:
    page = open_page(qtbot, services)
    page.outcome_box.setCurrentIndex(page.outcome_box.findData("retry"))
    page.export_chunk = 100
    target = out_dir / "retries.csv"
    # Another timer on the same loop sees every chunk land: the loop turns
    # between chunks instead of waiting for the whole file.
    seen: list[int] = []
    observer = QTimer(page, interval=0)
    observer.timeout.connect(lambda: seen.append(page.progress.value()))

    with qtbot.waitSignal(page.export_finished) as finished:
        page.export_to(target)
        observer.start()
        assert not page.export_button.isEnabled()
    observer.stop()

    assert finished.args == [str(target), 445]
    assert {100, 200, 300, 400} <= set(seen)
    header, *rows = read_csv(target)
    assert len(rows) == 445
    assert {row[header.index("outcome")] for row in rows} == {"retry"}
    assert page.export_button.isEnabled()
    assert not page.progress.isVisible()
    assert page.export_label.text() == f"Exported 445 rows to {target}"


def test_export_button_opens_a_save_dialog_without_a_nested_loop(
    qtbot: QtBot, services: Services, seeded: None, out_dir: Path
) -> None:
    page = open_page(qtbot, services)

    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)

    dialog = page.file_dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.isVisible()  # open() returned at once: no exec() loop
    assert dialog.acceptMode() is QFileDialog.AcceptMode.AcceptSave
    assert dialog.selectedFiles()[0].endswith(services.deliveries.suggested_file_name())
    target = out_dir / "chosen.csv"
    with qtbot.waitSignal(page.export_finished):
        dialog.fileSelected.emit(str(target))
    assert len(read_csv(target)) == 6


def test_export_to_a_missing_folder_says_so_and_writes_nothing(
    qtbot: QtBot, services: Services, seeded: None, out_dir: Path
) -> None:
    page = open_page(qtbot, services)
    target = out_dir / "missing" / "log.csv"

    with qtbot.waitSignal(page.export_failed) as failed:
        page.export_to(target)

    assert str(failed.args[0]).startswith(f"Cannot write {target}")
    assert page.export_label.text() == failed.args[0]
    boxes = [b for b in page.findChildren(QMessageBox) if b.isVisible()]
    assert [b.text() for b in boxes] == [failed.args[0]]
    assert list(out_dir.iterdir()) == []
    assert page.export_button.isEnabled()


def test_cancelled_export_leaves_no_file(
    qtbot: QtBot, services: Services, many: None, out_dir: Path
) -> None:
    page = open_page(qtbot, services)
    page.export_chunk = 10
    page.export_to(out_dir / "log.csv")
    qtbot.waitUntil(lambda: page.progress.value() > 0)

    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)

    assert list(out_dir.iterdir()) == []
    assert page.export_label.text() == "Export cancelled; no file was written."
    assert page.export_button.isEnabled()
