"""The Reminders tab: paging, filters, sorting and every action, on real SQLite."""

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from pushdesk.domain import Reminder, ReminderStatus, Target
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.ui.dialogs.reminder import Mode, ReminderDialog
from pushdesk.ui.main_window import MainWindow
from pushdesk.ui.paged import PAGE_SIZE
from pushdesk.ui.pages.reminders import RemindersModel, relative
from tests.support.clock import FakeClock
from tests.support.devices import add_device


def cell(model: RemindersModel, row: int, column: int) -> str:
    return str(model.data(model.index(row, column)))


@pytest.fixture
def window(qtbot: QtBot, services: Services, clock: FakeClock) -> MainWindow:
    shown = MainWindow(services, [], clock)
    qtbot.addWidget(shown)
    return shown


def schedule(
    services: Services, clock: FakeClock, title: str, minutes: int = 60
) -> Reminder:
    return services.reminders.schedule(
        title, f"{title} message", None, clock.now + timedelta(minutes=minutes)
    )


def test_rows_are_read_a_page_at_a_time_and_all_can_be_reached(
    window: MainWindow, services: Services, store: Store, clock: FakeClock
) -> None:
    with store.transaction():
        for number in range(PAGE_SIZE * 2 + 50):
            schedule(services, clock, f"R{number:04}", minutes=number + 1)
    window.refresh()
    model = window.reminders_page.model

    assert model.rowCount() == PAGE_SIZE * 2 + 50
    # Newest due first by default; the last row is the earliest.
    assert cell(model, 0, 1) == f"R{PAGE_SIZE * 2 + 49:04}"
    assert cell(model, model.rowCount() - 1, 1) == "R0000"
    assert len(model._pages) == 2  # the first and the last page, nothing between


def test_sorting_by_title_is_done_by_the_database(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    for title in ("banana", "Apple", "cherry"):
        schedule(services, clock, title)
    window.refresh()
    view = window.reminders_page.view

    view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    titles = [cell(window.reminders_page.model, row, 1) for row in range(3)]
    assert titles == ["Apple", "banana", "cherry"]

    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert cell(window.reminders_page.model, 0, 1) == "cherry"


def test_filters_narrow_by_text_status_and_target(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    add_device(services, "till", groups=("kitchen",))
    schedule(services, clock, "Pizza")
    cancelled = schedule(services, clock, "Pasta")
    services.reminders.cancel(cancelled.id)
    services.reminders.schedule(
        "Soup",
        "hot 100%",
        None,
        clock.now + timedelta(hours=1),
        target=Target(groups=("kitchen",)),
    )
    page = window.reminders_page
    page.refresh()

    page.text_filter.setText("100%")
    assert [cell(page.model, r, 1) for r in range(page.model.rowCount())] == ["Soup"]
    page.text_filter.setText("_")  # a LIKE wildcard, taken literally
    assert page.model.rowCount() == 0
    page.text_filter.clear()

    page.status_filter.setCurrentIndex(page.status_filter.findText("Cancelled"))
    assert [cell(page.model, r, 1) for r in range(page.model.rowCount())] == ["Pasta"]
    page.status_filter.setCurrentIndex(page.status_filter.findText("Upcoming"))
    assert page.model.rowCount() == 2

    page.target_filter.setCurrentIndex(page.target_filter.findText("Group kitchen"))
    assert [cell(page.model, r, 1) for r in range(page.model.rowCount())] == ["Soup"]
    assert cell(page.model, 0, 3) == "kitchen"
    page.target_filter.setCurrentIndex(page.target_filter.findText("Everyone"))
    assert [cell(page.model, r, 1) for r in range(page.model.rowCount())] == ["Pizza"]


def test_near_times_are_also_said_in_words(clock: FakeClock) -> None:
    assert relative(clock.now + timedelta(minutes=5), clock.now) == "in 5 min"
    assert relative(clock.now - timedelta(hours=3), clock.now) == "3 h ago"
    assert relative(clock.now + timedelta(days=2), clock.now) == ""


def test_status_has_an_icon_and_a_colour_not_only_words(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    schedule(services, clock, "One")
    window.refresh()
    model = window.reminders_page.model
    index = model.index(0, model.STATUS_COLUMN)

    assert not model.data(index, Qt.ItemDataRole.DecorationRole).isNull()
    assert model.data(index, Qt.ItemDataRole.ForegroundRole).name() == "#1e5aa8"


def test_edit_opens_the_reminder_and_saves_the_change(
    qtbot: QtBot, window: MainWindow, services: Services, clock: FakeClock
) -> None:
    reminder = schedule(services, clock, "Before", minutes=90)
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)

    page.edit_action.trigger()
    dialog = _open_dialog(window)
    assert dialog.mode is Mode.EDIT
    assert dialog.title_edit.text() == "Before"
    assert dialog.at_radio.isChecked()
    dialog.title_edit.setText("After")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    edited = services.reminders.get(reminder.id)
    assert edited.title == "After"
    assert edited.due_at == reminder.due_at
    assert services.reminders.count(page.listing.query) == 1


def test_duplicate_makes_a_second_reminder_with_the_same_text(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    original = schedule(services, clock, "Twice")
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)

    page.duplicate_action.trigger()
    dialog = _open_dialog(window)
    assert dialog.mode is Mode.DUPLICATE
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    reminders = services.reminders.all()
    assert [r.title for r in reminders] == ["Twice", "Twice"]
    assert {r.id for r in reminders} > {original.id}


def test_send_now_queues_it_at_once(
    window: MainWindow, services: Services, store: Store, clock: FakeClock
) -> None:
    add_device(services, "phone")
    reminder = schedule(services, clock, "Now", minutes=600)
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)
    assert page.send_now_action.isEnabled()

    page.send_now_action.trigger()

    assert services.reminders.get(reminder.id).status is ReminderStatus.SENDING
    window.refresh()
    assert cell(page.model, 0, page.model.STATUS_COLUMN) == "sending 0 of 1"
    assert window.progress_label.text() == "Sending 0 of 1"
    assert not page.send_now_action.isEnabled()


def test_delete_asks_first_and_keeps_nothing_in_the_list(
    qtbot: QtBot, window: MainWindow, services: Services, clock: FakeClock
) -> None:
    reminder = schedule(services, clock, "Gone soon")
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)

    page.delete_action.trigger()
    box = _open_message_box(window)
    box.button(QMessageBox.StandardButton.No).click()
    assert page.model.rowCount() == 1

    page.delete_action.trigger()
    box = _open_message_box(window)
    assert "delivery log is kept" in box.informativeText()
    box.button(QMessageBox.StandardButton.Yes).click()

    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    # Kept for the log, but cancelled so it never goes out.
    assert services.reminders.get(reminder.id).status is ReminderStatus.CANCELLED


def test_actions_follow_the_selected_reminder_status(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    reminder = schedule(services, clock, "Soon")
    page = window.reminders_page
    page.refresh()
    assert not page.edit_action.isEnabled()

    page.view.selectRow(0)
    assert page.edit_action.isEnabled()
    assert page.cancel_action.isEnabled()

    services.reminders.cancel(reminder.id)
    page.refresh()
    page.view.selectRow(0)
    assert not page.edit_action.isEnabled()
    assert not page.cancel_action.isEnabled()
    assert page.duplicate_action.isEnabled()
    assert page.delete_action.isEnabled()


def test_shortcuts_are_on_the_actions_and_in_the_context_menu(
    window: MainWindow,
) -> None:
    page = window.reminders_page
    shortcuts = {a.text(): a.shortcut().toString() for a in page.actions_for_toolbar()}

    assert shortcuts["&New reminder…"] == "Ctrl+N"
    assert shortcuts["&Delete…"] == "Del"
    assert all(shortcuts.values())


def _open_dialog(window: MainWindow) -> ReminderDialog:
    [dialog] = [w for w in window.findChildren(ReminderDialog) if w.isVisible()]
    return dialog


def _open_message_box(window: MainWindow) -> QMessageBox:
    [box] = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    return box


def test_the_sort_arrow_stays_on_a_column_the_rows_are_sorted_by(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    schedule(services, clock, "One")
    header = window.reminders_page.view.horizontalHeader()

    header.setSortIndicator(2, Qt.SortOrder.AscendingOrder)  # Message: unsortable

    assert header.sortIndicatorSection() == 0
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder


def test_a_title_that_looks_like_markup_is_shown_as_text_when_deleting(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    schedule(services, clock, '<h1>Big</h1><a href="https://x.example">x</a>')
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)

    page.delete_action.trigger()

    box = _open_message_box(window)
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert "<h1>Big</h1>" in box.text()


def test_a_reminder_that_fired_while_being_edited_keeps_the_dialog_open(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    add_device(services, "phone")
    reminder = schedule(services, clock, "Moving target", minutes=30)
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)
    page.edit_action.trigger()
    dialog = _open_dialog(window)
    dialog.message_edit.setPlainText("Typed while it went out")

    services.reminders.send_now(reminder.id)
    dialog.ok_button.click()

    assert dialog.isVisible()
    assert "only a scheduled reminder can be edited" in dialog.save_problem.text()
    assert dialog.message_edit.toPlainText() == "Typed while it went out"


def test_paused_sending_is_shown_and_can_be_resumed_from_the_window(
    window: MainWindow, services: Services
) -> None:
    window.show()
    assert not window.paused_label.isVisible()

    window.pause_action.trigger()
    assert services.sending.paused
    assert window.paused_label.isVisible()

    window.paused_label.linkActivated.emit("resume")
    assert not services.sending.paused
    assert not window.paused_label.isVisible()
    assert not window.pause_action.isChecked()


def test_cancelling_a_repeating_reminder_asks_first(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    from pushdesk.scheduling.recurrence import parse_rule

    reminder = services.reminders.schedule(
        "Daily",
        "Stand-up",
        None,
        clock.now + timedelta(hours=1),
        repeat=parse_rule("daily", "UTC"),
    )
    page = window.reminders_page
    page.refresh()
    page.view.selectRow(0)

    page.cancel_action.trigger()
    box = _open_message_box(window)
    assert "every future occurrence" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    assert services.reminders.get(reminder.id).status is ReminderStatus.SCHEDULED

    page.cancel_action.trigger()
    _open_message_box(window).button(QMessageBox.StandardButton.Yes).click()
    assert services.reminders.get(reminder.id).status is ReminderStatus.CANCELLED
