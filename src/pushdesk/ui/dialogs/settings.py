"""The Settings dialog: every operator setting, checked as you type, saved
with the data through the settings service."""

from dataclasses import replace
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pushdesk import settings as catalogue
from pushdesk.config import TlsMode
from pushdesk.domain import MAX_CONCURRENCY, Urgency
from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.services.settings import SettingsService
from pushdesk.settings import OperatorSettings, format_duration, parse_duration
from pushdesk.ui.messages import message_box

PROBLEM_STYLE = "color: #c62828;"
WARNING_MARK = " ⚠"


class Section(Enum):
    """A tab of the dialog, to open it at."""

    SERVER = "Server"
    SENDING = "Sending"
    REMINDERS = "Reminders and start-up"
    DEVICES = "Devices and limits"
    VISITORS = "Visitors"


SECTION_FIELDS = {
    Section.SERVER: ("host", "port", "http_port", "tls", "cert", "key"),
    Section.SENDING: ("vapid_subject", "max_lateness", "concurrency"),
    Section.REMINDERS: ("default_ttl", "default_urgency", "start_minimised"),
    Section.DEVICES: (
        "stale_after_days",
        "remove_after_warning_days",
        "max_label_length",
        "subscriptions_per_address",
        "subscribes_per_minute",
        "tests_per_minute",
        "websockets_per_address",
        "max_body_kb",
    ),
    Section.VISITORS: (
        "visitor_reminders",
        "visitor_pending_per_device",
        "visitor_min_delay_minutes",
        "visitor_max_delay_days",
        "visitor_message_length",
        "visitor_requests_per_minute",
    ),
}

# The whole-number settings on the Devices tab: the field, its label with a
# mnemonic, and the largest value its box takes (the check says the rest).
NUMBER_FIELDS = (
    (
        "stale_after_days",
        "&Warn devices unseen for (days)",
        catalogue.MAX_STALE_AFTER_DAYS,
    ),
    (
        "remove_after_warning_days",
        "&Remove warned devices after (days)",
        catalogue.MAX_REMOVE_AFTER_WARNING_DAYS,
    ),
    ("max_label_length", "Longest device &name (characters)", 1000),
    ("subscriptions_per_address", "&Devices per network address", 10_000),
    ("subscribes_per_minute", "&Subscribe requests per address a minute", 10_000),
    ("tests_per_minute", "&Test pushes per address a minute", 600),
    ("websockets_per_address", "&Open pages per network address", 1000),
    ("max_body_kb", "Largest request &body (KB)", 1024),
)

# The limits on reminders visitors set from the page: the field, its label,
# and the range the catalogue's check allows (so the box cannot leave it).
VISITOR_FIELDS = (
    ("visitor_pending_per_device", "&Waiting reminders per device", 1, 1000),
    ("visitor_min_delay_minutes", "&Shortest delay (minutes)", 1, 24 * 60),
    ("visitor_max_delay_days", "&Longest delay (days)", 1, 365),
    (
        "visitor_message_length",
        "Longest &message (characters)",
        10,
        catalogue.MAX_VISITOR_MESSAGE_LENGTH,
    ),
    ("visitor_requests_per_minute", "Reminder &requests per address a minute", 1, 600),
)

URGENCY_WORDS = {
    Urgency.VERY_LOW: "Very low (e.g. ads: may wait for Wi-Fi and power)",
    Urgency.LOW: "Low",
    Urgency.NORMAL: "Normal",
    Urgency.HIGH: "High (wakes the device at once)",
}


class SettingsDialog(QDialog):
    """Opens on the saved settings; OK saves them and publishes the change.

    ``announce``: after saving, say in a box what needs a restart (off when
    the caller restarts things itself, as start-up does).
    """

    def __init__(
        self,
        settings: SettingsService,
        parent: QWidget | None = None,
        *,
        section: Section = Section.SERVER,
        announce: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("pushdesk — Settings")
        self.setMinimumWidth(560)
        self._service = settings
        self._saved = settings.current()
        self._announce = announce
        self.saved_names: tuple[str, ...] = ()
        self.notice: str | None = None
        self.notice_box: QMessageBox | None = None
        self.file_picker: QFileDialog | None = None
        self.messages: dict[str, QLabel] = {}

        self.tabs = QTabWidget()
        self.pages = {
            Section.SERVER: self._server_page(),
            Section.SENDING: self._sending_page(),
            Section.REMINDERS: self._reminders_page(),
            Section.DEVICES: self._devices_page(),
            Section.VISITORS: self._visitors_page(),
        }
        for page_section, page in self.pages.items():
            self.tabs.addTab(page, page_section.value)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        self._show(self._saved)
        self._connect_revalidation()
        self._revalidate()
        self.show_section(section)

    # --- building --------------------------------------------------------------

    def _server_page(self) -> QWidget:
        self.host_edit = QLineEdit(placeholderText="0.0.0.0 — all of this machine's")
        self.port_spin = QSpinBox(minimum=0, maximum=65535)
        self.port_spin.setSpecialValueText("automatic: 8443 with HTTPS, 8080 without")
        self.http_port_spin = QSpinBox(minimum=1, maximum=65535)
        self.own_ca_radio = QRadioButton(
            "HTTPS with pushdesk's own certificate authority"
        )
        self.own_ca_radio.setToolTip(
            "Each phone installs pushdesk's certificate authority once, from the "
            "set-up page."
        )
        self.own_cert_radio = QRadioButton("HTTPS with my own certificate")
        self.own_cert_radio.setToolTip("For a real domain name: a certificate and key.")
        self.plain_radio = QRadioButton("Plain HTTP: no push for phones on the LAN")
        self.plain_radio.setToolTip(
            "For this computer alone, or behind a proxy that does HTTPS."
        )
        self.tls_group = QButtonGroup(self)
        for radio in (self.own_ca_radio, self.own_cert_radio, self.plain_radio):
            self.tls_group.addButton(radio)
        self.cert_edit = QLineEdit(placeholderText="certificate with its chain (PEM)")
        self.cert_button = QPushButton("Choose…")
        self.cert_button.clicked.connect(self._choose_certificate)
        self.key_edit = QLineEdit(placeholderText="its private key (PEM)")
        self.key_button = QPushButton("Choose…")
        self.key_button.clicked.connect(self._choose_key)

        modes = QVBoxLayout()
        for radio in (self.own_ca_radio, self.own_cert_radio, self.plain_radio):
            modes.addWidget(radio)
        form = QFormLayout()
        form.addRow("&Listen on", self._field("host", self.host_edit))
        form.addRow("Page &port", self._field("port", self.port_spin))
        form.addRow("&Set-up page port", self._field("http_port", self.http_port_spin))
        form.addRow("HTTPS", self._field("tls", modes))
        form.addRow(
            "&Certificate", self._field("cert", self.cert_edit, self.cert_button)
        )
        form.addRow("Private &key", self._field("key", self.key_edit, self.key_button))
        return self._page(
            form,
            "Changes here restart the server at once; pages open on phones "
            "reconnect by themselves.",
        )

    def _sending_page(self) -> QWidget:
        self.subject_edit = QLineEdit(placeholderText="mailto:you@example.org")
        self.lateness_edit = QLineEdit(placeholderText="1h")
        self.concurrency_spin = QSpinBox(minimum=1, maximum=MAX_CONCURRENCY)

        form = QFormLayout()
        form.addRow("Your &contact", self._field("vapid_subject", self.subject_edit))
        form.addRow(
            "&Maximum lateness", self._field("max_lateness", self.lateness_edit)
        )
        form.addRow(
            "Pushes in &flight", self._field("concurrency", self.concurrency_spin)
        )
        return self._page(
            form,
            "Push services may write to the contact if something goes wrong. A "
            "one-off reminder found later than the maximum lateness (pushdesk was "
            "off) is marked missed, not sent. Durations: 90s, 5m, 2h, 1d. The "
            "number of pushes in flight applies when pushdesk starts again.",
        )

    def _reminders_page(self) -> QWidget:
        self.ttl_edit = QLineEdit(placeholderText="1d")
        self.urgency_combo = QComboBox()
        for urgency, words in URGENCY_WORDS.items():
            self.urgency_combo.addItem(words, urgency.value)
        self.start_minimised_check = QCheckBox("Start pushdesk &minimised")

        form = QFormLayout()
        form.addRow("Time to &live", self._field("default_ttl", self.ttl_edit))
        form.addRow("&Urgency", self._field("default_urgency", self.urgency_combo))
        form.addRow("", self._field("start_minimised", self.start_minimised_check))
        return self._page(
            form,
            "New reminders start with these. The time to live is how long a push "
            "service keeps a reminder for a device that is offline (at most 28d).",
        )

    def _devices_page(self) -> QWidget:
        self.number_spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        for name, label, most in NUMBER_FIELDS:
            # Zero is below every limit: the check names it, not the box.
            spin = QSpinBox(minimum=0, maximum=most)
            self.number_spins[name] = spin
            form.addRow(label, self._field(name, spin))
        return self._page(
            form,
            "A device whose page has not been opened for the first number of "
            "days gets a push asking to open it, and is removed the second "
            "number of days later unless it comes back. The limits hold for "
            "each network address that reaches pushdesk's page; a request "
            "beyond them is refused. All of these apply at once.",
        )

    def _visitors_page(self) -> QWidget:
        self.visitor_check = QCheckBox("&Visitors may set reminders from the page")
        self.visitor_spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        form.addRow(self._field("visitor_reminders", self.visitor_check))
        for name, label, least, most in VISITOR_FIELDS:
            spin = QSpinBox(minimum=least, maximum=most)
            self.visitor_spins[name] = spin
            form.addRow(label, self._field(name, spin))
        return self._page(
            form,
            "Once subscribed, a visitor can ask the page to remind them (“Check "
            "the oven”, in 15 minutes). Such a reminder goes only to the visitor’s own "
            "devices, is listed under Reminders as set by a visitor, and can be "
            "cancelled there. The requests are counted for each network address. "
            "All of these apply at once.",
        )

    def _field(self, name: str, *parts: QWidget | QVBoxLayout) -> QWidget:
        """The input(s) of one setting with its problem shown right below."""
        row = QHBoxLayout()
        for part in parts:
            if isinstance(part, QWidget):
                row.addWidget(part, 1 if part is parts[0] else 0)
            else:
                row.addLayout(part, 1)
        message = QLabel(wordWrap=True)
        message.setStyleSheet(PROBLEM_STYLE)
        message.hide()
        self.messages[name] = message

        field = QWidget()
        layout = QVBoxLayout(field)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(message)
        return field

    def _page(self, form: QFormLayout, explanation: str) -> QWidget:
        note = QLabel(explanation, wordWrap=True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    # --- the values ------------------------------------------------------------

    def _show(self, settings: OperatorSettings) -> None:
        self.host_edit.setText(settings.host)
        self.port_spin.setValue(settings.port or 0)
        self.http_port_spin.setValue(settings.http_port)
        {
            TlsMode.OWN_CA: self.own_ca_radio,
            TlsMode.OWN_CERTIFICATE: self.own_cert_radio,
            TlsMode.PLAIN_HTTP: self.plain_radio,
        }[settings.tls].setChecked(True)
        self.cert_edit.setText(str(settings.cert or ""))
        self.key_edit.setText(str(settings.key or ""))
        self.subject_edit.setText(settings.vapid_subject or "")
        self.lateness_edit.setText(format_duration(settings.max_lateness))
        self.concurrency_spin.setValue(settings.concurrency)
        self.ttl_edit.setText(format_duration(settings.default_ttl))
        index = self.urgency_combo.findData(settings.default_urgency.value)
        self.urgency_combo.setCurrentIndex(index)
        self.start_minimised_check.setChecked(settings.start_minimised)
        for name, spin in self.number_spins.items():
            spin.setValue(getattr(settings, name))
        self.visitor_check.setChecked(settings.visitor_reminders)
        for name, spin in self.visitor_spins.items():
            spin.setValue(getattr(settings, name))

    def tls_mode(self) -> TlsMode:
        if self.plain_radio.isChecked():
            return TlsMode.PLAIN_HTTP
        if self.own_cert_radio.isChecked():
            return TlsMode.OWN_CERTIFICATE
        return TlsMode.OWN_CA

    def entered(self) -> tuple[OperatorSettings, dict[str, str]]:
        """The settings as entered, and the fields that cannot even be read
        (the saved value stands in for those)."""
        unreadable: dict[str, str] = {}

        def duration(edit: QLineEdit, name: str, saved: timedelta) -> timedelta:
            try:
                return parse_duration(edit.text())
            except InvalidInput as exc:
                unreadable[name] = str(exc)
                return saved

        # On the saved settings, so one that has no field here is kept.
        numbers: dict[str, Any] = {
            name: spin.value()
            for name, spin in (self.number_spins | self.visitor_spins).items()
        }
        settings = replace(
            self._saved,
            **numbers,
            vapid_subject=self.subject_edit.text(),
            host=self.host_edit.text(),
            port=self.port_spin.value() or None,
            http_port=self.http_port_spin.value(),
            tls=self.tls_mode(),
            cert=_path(self.cert_edit.text()),
            key=_path(self.key_edit.text()),
            default_ttl=duration(self.ttl_edit, "default_ttl", self._saved.default_ttl),
            default_urgency=Urgency(self.urgency_combo.currentData()),
            max_lateness=duration(
                self.lateness_edit, "max_lateness", self._saved.max_lateness
            ),
            concurrency=self.concurrency_spin.value(),
            start_minimised=self.start_minimised_check.isChecked(),
            visitor_reminders=self.visitor_check.isChecked(),
        )
        return settings, unreadable

    def problems(self) -> dict[str, str]:
        settings, unreadable = self.entered()
        return {**self._service.problems(settings), **unreadable}

    # --- behaviour -------------------------------------------------------------

    def show_section(self, section: Section) -> None:
        self.tabs.setCurrentWidget(self.pages[section])
        first = {
            Section.SERVER: self.port_spin,
            Section.SENDING: self.subject_edit,
            Section.REMINDERS: self.ttl_edit,
            Section.DEVICES: self.number_spins["stale_after_days"],
            Section.VISITORS: self.visitor_check,
        }[section]
        first.setFocus()

    def accept(self) -> None:
        settings, unreadable = self.entered()
        if unreadable:
            return
        try:
            self.saved_names = self._service.save(settings)
        except PushdeskError as exc:
            field = exc.field if isinstance(exc, InvalidInput) else None
            self._show_problems({field or "tls": str(exc)})
            return

        self.notice = catalogue.notice(self.saved_names)
        super().accept()
        if self.notice and self._announce:
            self.notice_box = message_box(
                QMessageBox.Icon.Information,
                "pushdesk — Settings saved",
                self.notice,
                self.parentWidget(),
            )
            self.notice_box.open()

    def _connect_revalidation(self) -> None:
        for edit in (
            self.host_edit,
            self.cert_edit,
            self.key_edit,
            self.subject_edit,
            self.lateness_edit,
            self.ttl_edit,
        ):
            edit.textChanged.connect(self._revalidate)
        for spin in (
            self.port_spin,
            self.http_port_spin,
            self.concurrency_spin,
            *self.number_spins.values(),
            *self.visitor_spins.values(),
        ):
            spin.valueChanged.connect(self._revalidate)
        self.tls_group.buttonToggled.connect(self._revalidate)
        self.urgency_combo.currentIndexChanged.connect(self._revalidate)
        self.start_minimised_check.toggled.connect(self._revalidate)
        self.visitor_check.toggled.connect(self._revalidate)

    def _revalidate(self) -> None:
        mode = self.tls_mode()
        self.http_port_spin.setEnabled(mode is not TlsMode.PLAIN_HTTP)
        own = mode is TlsMode.OWN_CERTIFICATE
        for widget in (
            self.cert_edit,
            self.cert_button,
            self.key_edit,
            self.key_button,
        ):
            widget.setEnabled(own)
        # Kept, not cleared, while off: turning it on again restores them.
        for spin in self.visitor_spins.values():
            spin.setEnabled(self.visitor_check.isChecked())
        self._show_problems(self.problems())

    def _show_problems(self, problems: dict[str, str]) -> None:
        for name, label in self.messages.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        for section, page in self.pages.items():
            marked = any(name in problems for name in SECTION_FIELDS[section])
            title = section.value + (WARNING_MARK if marked else "")
            self.tabs.setTabText(self.tabs.indexOf(page), title)
        self.ok_button.setEnabled(not problems)

    def _choose_certificate(self) -> None:
        self._choose_file(self.cert_edit, "Your certificate")

    def _choose_key(self) -> None:
        self._choose_file(self.key_edit, "The certificate's private key")

    def _choose_file(self, edit: QLineEdit, title: str) -> None:
        # open(), not a static getOpenFileName(): that would run a nested loop.
        start = str(Path(edit.text()).parent) if edit.text() else ""
        picker = QFileDialog(self, title, start)
        picker.setFileMode(QFileDialog.FileMode.ExistingFile)
        picker.setNameFilters(["PEM files (*.pem *.crt *.key)", "All files (*)"])
        picker.fileSelected.connect(edit.setText)
        picker.open()
        self.file_picker = picker


def _path(text: str) -> Path | None:
    return Path(text.strip()).expanduser() if text.strip() else None
