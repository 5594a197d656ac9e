"""Reminders visitors set from the page, as the operator sees them in the
Reminders tab: marked with the device's name, filtered, cancelled, edited."""

from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from pushdesk.domain import Reminder, ReminderStatus, Replacement, SubscriptionInput
from pushdesk.services import Services
from pushdesk.ui.dialogs.reminder import Mode, ReminderDialog
from pushdesk.ui.main_window import MainWindow
from pushdesk.ui.pages.reminders import RemindersModel
from pushdesk.ui.status_icons import VISITOR_COLOUR
from tests.support.clock import FakeClock
from tests.support.devices import add_device
from tests.support.keys import AUTH, P256DH

TO = RemindersModel.TO_COLUMN


@pytest.fixture
def window(qtbot: QtBot, services: Services, clock: FakeClock) -> MainWindow:
    shown = MainWindow(services, [], clock)
    qtbot.addWidget(shown)
    return shown


def set_from_page(services: Services, device_name: str, message: str) -> Reminder:
    """A reminder set through the page's service, proven as the page proves it."""
    add_device(services, device_name)
    proof = Replacement(f"https://push.example.org/{device_name}", AUTH)
    return services.self_reminders.create(proof, message, in_minutes=5)


def row_of(window: MainWindow, reminder: Reminder) -> int:
    page = window.reminders_page
    page.refresh()
    row = page.model.row_of(lambda line: line.reminder.id == reminder.id)
    assert row is not None
    return row


def to_cell(window: MainWindow, row: int, role: Qt.ItemDataRole) -> Any:
    model = window.reminders_page.model
    return model.data(model.index(row, TO), role)


def tooltip_as_shown(tip: object) -> str:
    """The tooltip's text as Qt renders it (it takes markup-like text as markup)."""
    document = QTextDocument()
    document.setHtml(str(tip))
    return document.toPlainText()


def test_a_visitor_reminder_is_marked_with_the_device_name(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    services.reminders.schedule("Team", "Stand-up", None, clock.now + timedelta(1))
    reminder = set_from_page(services, "Anna's phone", "Check the oven")

    row = row_of(window, reminder)

    assert to_cell(window, row, Qt.ItemDataRole.DisplayRole) == (
        "Visitor · Anna's phone"
    )
    assert tooltip_as_shown(to_cell(window, row, Qt.ItemDataRole.ToolTipRole)) == (
        "Set from the page by the visitor on Anna's phone"
    )
    assert to_cell(window, row, Qt.ItemDataRole.ForegroundRole).name() == (
        VISITOR_COLOUR
    )
    assert not to_cell(window, row, Qt.ItemDataRole.DecorationRole).isNull()

    operators = 1 - row
    assert to_cell(window, operators, Qt.ItemDataRole.DisplayRole) == "Everyone"
    assert to_cell(window, operators, Qt.ItemDataRole.DecorationRole) is None
    assert to_cell(window, operators, Qt.ItemDataRole.ForegroundRole) is None


def test_an_unnamed_device_is_called_by_its_number(
    window: MainWindow, services: Services
) -> None:
    device, _ = services.subscriptions.register(
        SubscriptionInput(
            "https://push.example.org/unnamed", P256DH, AUTH, None, user_agent=None
        )
    )
    proof = Replacement("https://push.example.org/unnamed", AUTH)
    reminder = services.self_reminders.create(proof, "Check the oven", in_minutes=5)

    row = row_of(window, reminder)

    assert to_cell(window, row, Qt.ItemDataRole.DisplayRole) == (
        f"Visitor · device {device.id}"
    )


def test_a_reminder_from_a_removed_device_says_so(
    window: MainWindow, services: Services
) -> None:
    reminder = set_from_page(services, "Anna's phone", "Check the oven")
    services.subscriptions.remove_by_operator(reminder.visitor_device or 0)

    row = row_of(window, reminder)

    assert to_cell(window, row, Qt.ItemDataRole.DisplayRole) == (
        "Visitor · a removed device"
    )
    assert tooltip_as_shown(to_cell(window, row, Qt.ItemDataRole.ToolTipRole)) == (
        "Set from the page by the visitor on a removed device"
    )


def test_markup_in_a_device_name_is_shown_as_text(
    window: MainWindow, services: Services
) -> None:
    reminder = set_from_page(services, "phone", "Check the oven")
    name = '<b>Anna</b> <img src="x"> &amp;'
    services.subscriptions.rename(reminder.visitor_device or 0, name)

    row = row_of(window, reminder)

    # The table paints display text as it is; the tooltip is escaped markup.
    assert to_cell(window, row, Qt.ItemDataRole.DisplayRole) == f"Visitor · {name}"
    assert tooltip_as_shown(to_cell(window, row, Qt.ItemDataRole.ToolTipRole)) == (
        f"Set from the page by the visitor on {name}"
    )


def test_the_target_filter_shows_only_reminders_set_by_visitors(
    window: MainWindow, services: Services, clock: FakeClock
) -> None:
    services.reminders.schedule("Team", "Stand-up", None, clock.now + timedelta(1))
    oven = set_from_page(services, "Anna's phone", "Check the oven")
    tea = set_from_page(services, "Ben's phone", "Tea is ready")
    page = window.reminders_page
    page.refresh()

    page.target_filter.setCurrentIndex(page.target_filter.findText("Set by visitors"))

    shown = {page.model.row_at(r).reminder.id for r in range(page.model.rowCount())}
    assert shown == {oven.id, tea.id}
    page.target_filter.setCurrentIndex(page.target_filter.findText("Any target"))
    assert page.model.rowCount() == 3
    page.target_filter.setCurrentIndex(page.target_filter.findText("Everyone"))
    assert page.model.data(page.model.index(0, 1)) == "Team"
    assert page.model.rowCount() == 1


def test_the_operator_cancels_a_visitor_reminder_like_any_other(
    window: MainWindow, services: Services
) -> None:
    reminder = set_from_page(services, "Anna's phone", "Check the oven")
    page = window.reminders_page
    page.view.selectRow(row_of(window, reminder))
    assert page.cancel_action.isEnabled()

    page.cancel_action.trigger()

    cancelled = services.reminders.get(reminder.id)
    assert cancelled.status is ReminderStatus.CANCELLED
    assert cancelled.from_visitor
    proof = Replacement("https://push.example.org/Anna's phone", AUTH)
    assert services.self_reminders.pending(proof) == []
    page.refresh()
    assert to_cell(window, 0, Qt.ItemDataRole.DisplayRole) == ("Visitor · Anna's phone")


def test_editing_a_visitor_reminder_keeps_it_the_visitors(
    window: MainWindow, services: Services
) -> None:
    reminder = set_from_page(services, "Anna's phone", "Check the oven")
    page = window.reminders_page
    page.view.selectRow(row_of(window, reminder))
    assert page.edit_action.isEnabled()

    page.edit_action.trigger()
    [dialog] = [w for w in window.findChildren(ReminderDialog) if w.isVisible()]
    assert dialog.mode is Mode.EDIT
    assert dialog.devices_radio.isChecked()
    dialog.message_edit.setPlainText("Check the oven and the rice")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    edited = services.reminders.get(reminder.id)
    assert edited.message == "Check the oven and the rice"
    assert edited.visitor_device == reminder.visitor_device
    assert edited.target == reminder.target
    # Still theirs on the page: listed, and theirs to cancel.
    proof = Replacement("https://push.example.org/Anna's phone", AUTH)
    assert [r.id for r in services.self_reminders.pending(proof)] == [reminder.id]
    page.refresh()
    assert to_cell(window, 0, Qt.ItemDataRole.DisplayRole) == ("Visitor · Anna's phone")


def test_a_visitor_reminder_that_also_goes_to_other_devices_says_so(
    window: MainWindow, services: Services
) -> None:
    add_device(services, "laptop")
    add_device(services, "phone")
    reminder = services.self_reminders.create(
        Replacement("https://push.example.org/phone", AUTH),
        "Check the oven",
        in_minutes=5,
        also=[Replacement("https://push.example.org/laptop", AUTH)],
    )

    row = row_of(window, reminder)

    assert to_cell(window, row, Qt.ItemDataRole.DisplayRole) == (
        "Visitor · phone → 2 devices"
    )
