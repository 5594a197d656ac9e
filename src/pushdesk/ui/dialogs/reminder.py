"""The "New reminder" dialog: validates as you type, schedules on OK."""

from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pushdesk.clock import Clock
from pushdesk.domain import ReminderDraft
from pushdesk.errors import InvalidInput
from pushdesk.services.reminders import ReminderService


class ReminderDialog(QDialog):
    def __init__(
        self, reminders: ReminderService, clock: Clock, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New reminder")
        self.setMinimumWidth(460)
        self._reminders = reminders
        self._clock = clock

        self.title_edit = QLineEdit(placeholderText="pushdesk")
        self.message_edit = QPlainTextEdit()
        self.message_edit.setPlaceholderText("What should people be reminded of?")
        self.message_edit.setFixedHeight(90)
        self.url_edit = QLineEdit(placeholderText="https://… (optional)")

        self.in_radio = QRadioButton("In")
        self.minutes_spin = QSpinBox(minimum=1, maximum=60 * 24 * 30, value=5)
        self.minutes_spin.setSuffix(" minutes")
        self.at_radio = QRadioButton("At")
        self.at_edit = QDateTimeEdit(calendarPopup=True)
        self.at_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.at_edit.setDateTime(QDateTime.currentDateTime().addSecs(3600))
        self.in_radio.setChecked(True)
        when_group = QButtonGroup(self)
        when_group.addButton(self.in_radio)
        when_group.addButton(self.at_radio)

        self.problem_label = QLabel()
        self.problem_label.setStyleSheet("color: #c62828;")
        self.problem_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Schedule")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self._lay_out()
        for signal in (
            self.title_edit.textChanged,
            self.message_edit.textChanged,
            self.url_edit.textChanged,
            self.minutes_spin.valueChanged,
            self.at_edit.dateTimeChanged,
            self.in_radio.toggled,
        ):
            signal.connect(self._revalidate)
        self._revalidate()

    def _lay_out(self) -> None:
        in_row = QHBoxLayout()
        in_row.addWidget(self.in_radio)
        in_row.addWidget(self.minutes_spin, 1)
        at_row = QHBoxLayout()
        at_row.addWidget(self.at_radio)
        at_row.addWidget(self.at_edit, 1)
        when = QVBoxLayout()
        when.addLayout(in_row)
        when.addLayout(at_row)

        form = QFormLayout()
        form.addRow("&Title", self.title_edit)
        form.addRow("&Message", self.message_edit)
        form.addRow("Click &URL", self.url_edit)
        form.addRow("When", when)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

    def due_at(self) -> datetime:
        if self.in_radio.isChecked():
            return self._clock() + timedelta(minutes=self.minutes_spin.value())
        chosen = self.at_edit.dateTime().toPython()
        assert isinstance(chosen, datetime)
        return chosen.astimezone()

    def draft(self) -> ReminderDraft:
        """The reminder as entered; raises InvalidInput naming what is wrong."""
        checked = self._reminders.check(
            self.title_edit.text(),
            self.message_edit.toPlainText(),
            self.url_edit.text(),
        )
        due_at = self.due_at()
        if due_at < self._clock() - timedelta(seconds=1):
            raise InvalidInput("That time is in the past.", "due_at")
        return ReminderDraft(checked.title, checked.message, checked.url, due_at)

    def _revalidate(self) -> None:
        self.minutes_spin.setEnabled(self.in_radio.isChecked())
        self.at_edit.setEnabled(self.at_radio.isChecked())
        try:
            self.draft()
        except InvalidInput as exc:
            problem = str(exc)
        else:
            problem = ""
        self.problem_label.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
