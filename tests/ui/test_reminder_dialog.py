"""The reminder dialog: each problem beside its field, targets, repeat, advanced."""

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pushdesk.domain import Target, Urgency
from pushdesk.push.payload import MAX_PAYLOAD_BYTES
from pushdesk.services import Services
from pushdesk.ui.dialogs.reminder import Choices, ReminderDialog, wall_clock
from tests.support.clock import FakeClock
from tests.support.devices import add_device


def open_dialog(
    qtbot: QtBot, services: Services, clock: FakeClock, choices: Choices | None = None
) -> ReminderDialog:
    dialog = ReminderDialog(services.reminders, clock, choices=choices or Choices())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_each_problem_is_shown_beside_its_own_field(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    dialog = open_dialog(qtbot, services, clock)
    assert dialog.message_problem.text() == "The message is empty."
    assert not dialog.ok_button.isEnabled()

    dialog.message_edit.setPlainText("Hi")
    dialog.url_edit.setText("ftp://example.org")
    dialog.icon_edit.setText("not a url")

    assert "http" in dialog.url_problem.text()
    assert "icon" in dialog.icon_problem.text()
    assert dialog.message_problem.text() == ""
    assert not dialog.ok_button.isEnabled()

    dialog.url_edit.clear()
    dialog.icon_edit.setText("https://example.org/bell.png")
    assert dialog.ok_button.isEnabled()


def test_the_payload_size_is_counted_as_you_type(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    dialog = open_dialog(qtbot, services, clock)
    dialog.message_edit.setPlainText("x" * MAX_PAYLOAD_BYTES)

    assert "too long" in dialog.message_problem.text()
    assert dialog.size_label.text().endswith(f"of {MAX_PAYLOAD_BYTES:,} bytes")
    assert not dialog.ok_button.isEnabled()

    dialog.message_edit.setPlainText("short")
    assert dialog.message_problem.text() == ""


def test_preview_shows_title_body_and_where_a_click_goes(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    dialog = open_dialog(qtbot, services, clock)
    dialog.title_edit.setText("<b>Kitchen</b>")
    dialog.message_edit.setPlainText("Pizza\nis\nready\nnow\nfifth line")
    dialog.url_edit.setText("https://intranet.example.org/menu")

    preview = dialog.preview
    assert preview.title_label.text() == "<b>Kitchen</b>"
    assert preview.title_label.textFormat() == Qt.TextFormat.PlainText
    assert preview.body_label.text() == "Pizza\nis\nready\nnow…"
    assert "intranet.example.org" in preview.source_label.text()


def test_groups_and_devices_say_how_many_devices_they_reach(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    first = add_device(services, "till-1", groups=("kitchen",))
    add_device(services, "till-2", groups=("kitchen",))
    add_device(services, "office")
    choices = Choices(
        groups=services.subscriptions.groups(),
        devices=[(d.id, d.label or "") for d in services.subscriptions.all()],
    )
    dialog = open_dialog(qtbot, services, clock, choices)
    dialog.message_edit.setPlainText("Hi")
    assert dialog.reach_label.text() == "Reaches 3 devices now."

    dialog.groups_radio.setChecked(True)
    assert dialog.target_problem.text() == "Choose at least one group."
    dialog.groups_list.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.reach_label.text() == "Reaches 2 devices now."
    assert dialog.form().target == Target(groups=("kitchen",))

    dialog.devices_radio.setChecked(True)
    dialog.device_filter.setText("till-1")
    visible = [
        dialog.devices_list.item(row)
        for row in range(dialog.devices_list.count())
        if not dialog.devices_list.item(row).isHidden()
    ]
    assert len(visible) == 1
    visible[0].setCheckState(Qt.CheckState.Checked)
    assert dialog.reach_label.text() == "Reaches 1 device now."
    assert dialog.form().target == Target(subscription_ids=(first,))


def test_a_repeat_rule_in_a_time_zone_is_checked_and_kept(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    dialog = open_dialog(qtbot, services, clock)
    dialog.message_edit.setPlainText("Stand-up")
    dialog.repeat_check.setChecked(True)
    dialog.repeat_combo.setCurrentText("every tuesday-ish")
    assert "not a repeat rule" in dialog.when_problem.text()

    dialog.repeat_combo.setCurrentText("weekdays")
    dialog.zone_combo.setCurrentText("Mars/Olympus")
    assert "not a time zone" in dialog.when_problem.text()

    dialog.zone_combo.setCurrentText("Europe/Berlin")
    form = dialog.form()
    assert form.repeat is not None
    assert form.repeat.timezone == "Europe/Berlin"
    assert form.repeat.weekdays == (0, 1, 2, 3, 4)


def test_time_in_the_past_is_refused(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    dialog = open_dialog(qtbot, services, clock)
    dialog.message_edit.setPlainText("Late")
    dialog.at_radio.setChecked(True)
    past = (clock.now - timedelta(hours=1)).astimezone()
    dialog.at_edit.setDateTime(wall_clock(past))

    assert dialog.when_problem.text() == "That time is in the past."
    assert not dialog.ok_button.isEnabled()


@pytest.mark.parametrize(
    ("value", "unit", "seconds"), [(30, "minutes", 1800), (2, "days", 172800)]
)
def test_ttl_and_urgency_reach_the_form(
    qtbot: QtBot,
    services: Services,
    clock: FakeClock,
    value: int,
    unit: str,
    seconds: int,
) -> None:
    choices = Choices(default_ttl=3600, default_urgency=Urgency.HIGH)
    dialog = open_dialog(qtbot, services, clock, choices)
    dialog.message_edit.setPlainText("Hi")
    assert dialog.ttl() == 3600
    assert dialog.urgency_combo.currentText() == "high"

    dialog.ttl_unit.setCurrentText(unit)
    dialog.ttl_spin.setValue(value)
    dialog.urgency_combo.setCurrentText("low")

    form = dialog.form()
    assert form.ttl == seconds
    assert form.urgency is Urgency.LOW


def test_a_ttl_beyond_four_weeks_is_refused_and_any_saved_default_shows(
    qtbot: QtBot, services: Services, clock: FakeClock
) -> None:
    dialog = open_dialog(qtbot, services, clock, Choices(default_ttl=90))
    dialog.message_edit.setPlainText("Hi")
    assert dialog.ttl() == 90
    assert dialog.ok_button.isEnabled()

    dialog.ttl_unit.setCurrentText("days")
    dialog.ttl_spin.setValue(29)

    assert dialog.ttl_problem.text() == "Push services keep a message 28 days at most."
    assert not dialog.ok_button.isEnabled()
