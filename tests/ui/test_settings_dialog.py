"""The Settings dialog: checked as you type, saved with the data, and plain
about what needs a restart."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from pushdesk.config import TlsMode
from pushdesk.domain import Urgency
from pushdesk.events import Event, SettingsChanged
from pushdesk.services import Services
from pushdesk.settings import OperatorSettings, ReminderDefaults
from pushdesk.ui.dialogs.settings import Section, SettingsDialog
from tests.support.clock import FakeClock

SAVED = OperatorSettings(vapid_subject="mailto:ops@example.org")


@pytest.fixture
def dialog(qtbot: QtBot, services: Services) -> SettingsDialog:
    services.settings.save(SAVED)
    opened = SettingsDialog(services.settings)
    qtbot.addWidget(opened)
    opened.open()
    return opened


def retype(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def shown(label: QLabel) -> str:
    """The message as the operator sees it once on its tab."""
    return "" if label.isHidden() else label.text()


def test_it_opens_on_the_saved_settings(qtbot: QtBot, services: Services) -> None:
    services.settings.save(
        replace(SAVED, port=9443, max_lateness=timedelta(minutes=90), concurrency=8)
    )

    dialog = SettingsDialog(services.settings)
    qtbot.addWidget(dialog)

    assert dialog.subject_edit.text() == "mailto:ops@example.org"
    assert dialog.port_spin.value() == 9443
    assert dialog.lateness_edit.text() == "90m"
    assert dialog.ttl_edit.text() == "1d"
    assert dialog.concurrency_spin.value() == 8
    assert dialog.own_ca_radio.isChecked()
    assert dialog.ok_button.isEnabled()


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("mailto:ops@localhost", "localhost only exists on this network"),
        ("mailto:me@printer.local", "printer.local only exists on this network"),
        ("https://localhost/", "localhost only exists on this network"),
        ("mailto:me@printer", "printer is not a domain on the internet"),
        ("", "Push services need a contact"),
    ],
)
def test_a_contact_push_services_refuse_is_explained_next_to_it(
    qtbot: QtBot, dialog: SettingsDialog, subject: str, reason: str
) -> None:
    retype(qtbot, dialog.subject_edit, subject)

    assert reason in shown(dialog.messages["vapid_subject"])
    assert not dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(dialog.tabs.indexOf(dialog.pages[Section.SENDING])) == (
        "Sending ⚠"
    )

    retype(qtbot, dialog.subject_edit, "mailto:ops@example.org")
    assert shown(dialog.messages["vapid_subject"]) == ""
    assert dialog.ok_button.isEnabled()


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("max_lateness", "30s", "at least 1 minute"),
        ("max_lateness", "soon", "write 90s, 5m, 2h or 1d"),
        ("default_ttl", "29d", "at most 28 days"),
        ("host", "my host", "is not an address"),
    ],
)
def test_bad_durations_and_addresses_are_explained_next_to_them(
    qtbot: QtBot, dialog: SettingsDialog, field: str, text: str, reason: str
) -> None:
    edit = {
        "max_lateness": dialog.lateness_edit,
        "default_ttl": dialog.ttl_edit,
        "host": dialog.host_edit,
    }[field]

    retype(qtbot, edit, text)

    assert reason in shown(dialog.messages[field])
    assert not dialog.ok_button.isEnabled()


def test_the_set_up_page_cannot_share_the_page_port(dialog: SettingsDialog) -> None:
    dialog.port_spin.setValue(8080)

    assert "needs a port of its own" in shown(dialog.messages["http_port"])
    assert not dialog.ok_button.isEnabled()

    dialog.plain_radio.setChecked(True)
    assert dialog.ok_button.isEnabled()
    assert not dialog.http_port_spin.isEnabled()


def test_own_certificate_needs_a_pair_that_loads(
    qtbot: QtBot, dialog: SettingsDialog, tmp_path: Path, clock: FakeClock
) -> None:
    from pushdesk.server.tls import LocalCA, machine_names

    files = LocalCA(tmp_path / "tls", clock).server_files(machine_names())
    cert, key = files.cert, files.key
    assert not dialog.cert_edit.isEnabled()

    dialog.own_cert_radio.setChecked(True)
    assert dialog.cert_edit.isEnabled()
    assert "Choose your certificate file" in shown(dialog.messages["cert"])

    retype(qtbot, dialog.cert_edit, str(tmp_path / "missing.pem"))
    retype(qtbot, dialog.key_edit, str(key))
    assert "Cannot use the certificate" in shown(dialog.messages["cert"])
    assert not dialog.ok_button.isEnabled()

    retype(qtbot, dialog.cert_edit, str(cert))
    assert shown(dialog.messages["cert"]) == ""
    assert dialog.ok_button.isEnabled()


def test_the_file_picker_fills_in_the_certificate(
    dialog: SettingsDialog, tmp_path: Path
) -> None:
    chosen = tmp_path / "mine.pem"
    chosen.write_text("not yet checked")
    dialog.own_cert_radio.setChecked(True)

    dialog.cert_button.click()
    picker = dialog.file_picker
    assert isinstance(picker, QFileDialog)
    assert picker.isVisible()
    picker.fileSelected.emit(str(chosen))

    assert dialog.cert_edit.text() == str(chosen)


def test_saving_stores_the_settings_and_tells_everyone(
    qtbot: QtBot, dialog: SettingsDialog, services: Services
) -> None:
    events: list[Event] = []
    services.hub.subscribe(events.append)

    retype(qtbot, dialog.ttl_edit, "2h")
    dialog.urgency_combo.setCurrentIndex(dialog.urgency_combo.findData("high"))
    retype(qtbot, dialog.lateness_edit, "10m")
    dialog.start_minimised_check.setChecked(True)
    dialog.ok_button.click()

    assert not dialog.isVisible()
    assert services.settings.defaults() == ReminderDefaults(7200, Urgency.HIGH)
    saved = services.settings.current()
    assert (saved.max_lateness, saved.start_minimised) == (timedelta(minutes=10), True)
    assert events == [
        SettingsChanged(
            ("default_ttl", "default_urgency", "max_lateness", "start_minimised")
        )
    ]
    # All of these took effect: nothing to announce.
    assert dialog.notice_box is None


def test_cancel_saves_nothing(
    qtbot: QtBot, dialog: SettingsDialog, services: Services
) -> None:
    retype(qtbot, dialog.ttl_edit, "2h")

    dialog.reject()

    assert services.settings.current() == SAVED


def test_a_setting_that_needs_a_restart_says_so_after_saving(
    dialog: SettingsDialog,
) -> None:
    dialog.concurrency_spin.setValue(16)
    dialog.ok_button.click()

    box = dialog.notice_box
    assert box is not None
    assert box.isVisible()
    assert box.text() == "Restart pushdesk to use the new setting for pushes in flight."


def test_a_new_address_says_the_server_restarts_now(dialog: SettingsDialog) -> None:
    dialog.port_spin.setValue(9443)
    dialog.ok_button.click()

    assert dialog.notice_box is not None
    assert "The server restarts with the new address" in dialog.notice_box.text()


def test_it_can_open_at_the_server_section(qtbot: QtBot, services: Services) -> None:
    dialog = SettingsDialog(services.settings, section=Section.SERVER)
    qtbot.addWidget(dialog)
    dialog.show()

    assert dialog.tabs.currentWidget() is dialog.pages[Section.SERVER]
    qtbot.waitUntil(lambda: dialog.port_spin.hasFocus())


def test_tls_modes_round_trip(qtbot: QtBot, services: Services) -> None:
    services.settings.save(replace(SAVED, tls=TlsMode.PLAIN_HTTP))

    dialog = SettingsDialog(services.settings)
    qtbot.addWidget(dialog)

    assert dialog.plain_radio.isChecked()
    assert dialog.tls_mode() is TlsMode.PLAIN_HTTP


def test_the_devices_tab_shows_and_saves_hygiene_and_limits(
    qtbot: QtBot, services: Services
) -> None:
    services.settings.save(replace(SAVED, stale_after_days=30, tests_per_minute=5))
    dialog = SettingsDialog(services.settings, section=Section.DEVICES)
    qtbot.addWidget(dialog)
    dialog.show()
    spins = dialog.number_spins
    assert dialog.tabs.currentWidget() is dialog.pages[Section.DEVICES]
    assert (spins["stale_after_days"].value(), spins["tests_per_minute"].value()) == (
        30,
        5,
    )

    spins["remove_after_warning_days"].setValue(7)
    spins["max_label_length"].setValue(40)
    spins["websockets_per_address"].setValue(3)
    dialog.ok_button.click()

    saved = services.settings.current()
    assert (
        saved.stale_after_days,
        saved.remove_after_warning_days,
        saved.max_label_length,
        saved.websockets_per_address,
        saved.tests_per_minute,
    ) == (30, 7, 40, 3, 5)
    assert dialog.notice_box is None  # all of them apply at once


def test_a_limit_out_of_range_is_explained_and_blocks_saving(
    qtbot: QtBot, dialog: SettingsDialog, services: Services
) -> None:
    dialog.number_spins["subscriptions_per_address"].setValue(0)

    message = shown(dialog.messages["subscriptions_per_address"])
    assert "from 1 to 10000, not 0" in message
    assert not dialog.ok_button.isEnabled()
    assert dialog.tabs.tabText(dialog.tabs.indexOf(dialog.pages[Section.DEVICES])) == (
        "Devices and limits ⚠"
    )


def test_saving_one_tab_keeps_every_other_setting(
    qtbot: QtBot, services: Services
) -> None:
    # Saved behind the dialog's back, as by the CLI, before it opened.
    everything = replace(
        SAVED, stale_after_days=9, max_body_kb=64, subscribes_per_minute=7
    )
    services.settings.save(everything)
    dialog = SettingsDialog(services.settings)
    qtbot.addWidget(dialog)

    retype(qtbot, dialog.ttl_edit, "2h")
    dialog.ok_button.click()

    assert services.settings.current() == replace(
        everything, default_ttl=timedelta(hours=2)
    )


def test_the_visitors_tab_shows_and_saves_reminders_from_the_page(
    qtbot: QtBot, services: Services
) -> None:
    services.settings.save(replace(SAVED, visitor_max_delay_days=3))
    dialog = SettingsDialog(services.settings, section=Section.VISITORS)
    qtbot.addWidget(dialog)
    dialog.show()
    spins = dialog.visitor_spins
    assert dialog.tabs.currentWidget() is dialog.pages[Section.VISITORS]
    assert dialog.visitor_check.isChecked()
    assert spins["visitor_max_delay_days"].value() == 3

    spins["visitor_pending_per_device"].setValue(4)
    spins["visitor_min_delay_minutes"].setValue(2)
    spins["visitor_max_delay_days"].setValue(30)
    spins["visitor_message_length"].setValue(120)
    spins["visitor_requests_per_minute"].setValue(6)
    dialog.visitor_check.setChecked(False)
    dialog.ok_button.click()

    saved = services.settings.current()
    assert (
        saved.visitor_reminders,
        saved.visitor_pending_per_device,
        saved.visitor_min_delay_minutes,
        saved.visitor_max_delay_days,
        saved.visitor_message_length,
        saved.visitor_requests_per_minute,
    ) == (False, 4, 2, 30, 120, 6)
    assert dialog.notice_box is None  # all of them apply at once


def test_the_visitor_limits_are_off_while_visitors_may_not_set_reminders(
    qtbot: QtBot, dialog: SettingsDialog, services: Services
) -> None:
    spins = dialog.visitor_spins.values()
    assert all(spin.isEnabled() for spin in spins)

    dialog.visitor_check.setChecked(False)
    assert not any(spin.isEnabled() for spin in spins)

    dialog.visitor_check.setChecked(True)
    assert all(spin.isEnabled() for spin in spins)


def test_the_visitor_limits_keep_to_the_ranges_the_settings_accept(
    dialog: SettingsDialog, services: Services
) -> None:
    for name, spin in dialog.visitor_spins.items():
        least, most = spin.minimum(), spin.maximum()
        edges = ((least - 1, False), (least, True), (most, True), (most + 1, False))
        for value, accepted in edges:
            changed: dict[str, Any] = {name: value}
            problems = services.settings.problems(replace(SAVED, **changed))
            assert (name not in problems) is accepted, (name, value)

    for spin in dialog.visitor_spins.values():
        spin.setValue(spin.maximum())
    dialog.ok_button.click()

    saved = services.settings.current()
    assert (saved.visitor_message_length, saved.visitor_pending_per_device) == (
        500,
        1000,
    )
