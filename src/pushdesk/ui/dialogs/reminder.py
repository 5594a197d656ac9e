"""The reminder dialog: new, edit and duplicate, checked as the operator types."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TypedDict
from zoneinfo import ZoneInfo, available_timezones

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pushdesk.clock import Clock
from pushdesk.domain import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    Reminder,
    Target,
    Urgency,
)
from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.push.payload import MAX_PAYLOAD_BYTES, payload_size
from pushdesk.scheduling.recurrence import Recurrence, parse_rule
from pushdesk.services.reminders import ReminderService
from pushdesk.timezones import local_zone_name
from pushdesk.ui.preview import NotificationPreview

PROBLEM_STYLE = "color: #c62828;"
REPEAT_EXAMPLES = (
    "daily",
    "weekdays",
    "weekly mon,wed,fri",
    "every 2h",
    "every 15m",
    "monthly",
    "cron 0 9 * * 1",
)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TTL_UNITS = (("seconds", 1), ("minutes", 60), ("hours", 3600), ("days", 86400))


class Mode(Enum):
    NEW = "New reminder"
    EDIT = "Edit reminder"
    DUPLICATE = "Duplicate reminder"


class ScheduleOptions(TypedDict):
    target: Target
    ttl: int
    urgency: Urgency
    repeat: Recurrence | None
    icon: str | None


@dataclass(frozen=True)
class ReminderForm:
    """Everything the dialog asks for, checked, ready for the reminder service."""

    title: str
    message: str
    url: str | None
    icon: str | None
    due_at: datetime
    target: Target
    ttl: int
    urgency: Urgency
    repeat: Recurrence | None

    @property
    def text(self) -> tuple[str, str, str | None, datetime]:
        """The reminder service's positional arguments: title, message, URL, due."""
        return self.title, self.message, self.url, self.due_at

    @property
    def options(self) -> ScheduleOptions:
        return {
            "target": self.target,
            "ttl": self.ttl,
            "urgency": self.urgency,
            "repeat": self.repeat,
            "icon": self.icon,
        }


Save = Callable[["ReminderDialog", ReminderForm], Reminder]


@dataclass(frozen=True)
class Choices:
    """What the operator can aim at, read by the window before the dialog opens."""

    groups: Sequence[str] = ()
    devices: Sequence[tuple[int, str]] = ()  # id and label
    default_ttl: int = DEFAULT_TTL_SECONDS
    default_urgency: Urgency = Urgency.NORMAL


def _problem_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(PROBLEM_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def wall_clock(moment: datetime) -> QDateTime:
    """The date and time ``moment`` shows on its own clock, for a date editor."""
    return QDateTime(
        QDate(moment.year, moment.month, moment.day),
        QTime(moment.hour, moment.minute, moment.second),
    )


def _with_problem(field: QWidget, problem: QLabel) -> QWidget:
    """A field with its problem right under it, taking no room when fine."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    layout.addWidget(problem)
    return box


def _show(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


class ReminderDialog(QDialog):
    def __init__(
        self,
        reminders: ReminderService,
        clock: Clock,
        parent: QWidget | None = None,
        *,
        choices: Choices = Choices(),
        mode: Mode = Mode.NEW,
        original: Reminder | None = None,
        save: Save | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(mode.value)
        self.setMinimumWidth(640)
        self._reminders = reminders
        self._clock = clock
        self.mode = mode
        self.original = original
        self.saved: Reminder | None = None
        self._save = save

        self._make_text_fields()
        self._make_when_fields()
        self._make_target_fields(choices)
        self._make_advanced_fields(choices)
        self.preview = NotificationPreview()
        self.size_label = QLabel()
        self.reach_label = QLabel()
        # What only saving can find (it fired meanwhile, a device went away).
        self.save_problem = _problem_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button.setText("Save" if mode is Mode.EDIT else "Schedule")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self._lay_out()
        if original is not None:
            self._fill_from(original)
        for signal in (
            self.title_edit.textChanged,
            self.message_edit.textChanged,
            self.url_edit.textChanged,
            self.icon_edit.textChanged,
            self.minutes_spin.valueChanged,
            self.at_edit.dateTimeChanged,
            self.in_radio.toggled,
            self.repeat_check.toggled,
            self.repeat_combo.currentTextChanged,
            self.zone_combo.currentTextChanged,
            self.everyone_radio.toggled,
            self.groups_radio.toggled,
            self.groups_list.itemChanged,
            self.devices_list.itemChanged,
            self.ttl_spin.valueChanged,
            self.ttl_unit.currentIndexChanged,
        ):
            signal.connect(self._revalidate)
        self.device_filter.textChanged.connect(self._filter_devices)
        self._revalidate()

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _make_text_fields(self) -> None:
        self.title_edit = QLineEdit(placeholderText="pushdesk")
        self.message_edit = QPlainTextEdit()
        self.message_edit.setPlaceholderText("What should people be reminded of?")
        self.message_edit.setFixedHeight(80)
        self.url_edit = QLineEdit(placeholderText="https://… opened on a click")
        self.icon_edit = QLineEdit(placeholderText="https://…/image.png (optional)")
        self.title_problem = _problem_label()
        self.message_problem = _problem_label()
        self.url_problem = _problem_label()
        self.icon_problem = _problem_label()

    def _make_when_fields(self) -> None:
        self.in_radio = QRadioButton("In")
        self.minutes_spin = QSpinBox(minimum=1, maximum=60 * 24 * 30, value=5)
        self.minutes_spin.setSuffix(" minutes")
        self.at_radio = QRadioButton("At")
        self.at_edit = QDateTimeEdit(calendarPopup=True)
        self.at_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.at_edit.setDateTime(
            wall_clock(self._clock().astimezone() + timedelta(hours=1))
        )
        self.in_radio.setChecked(True)
        when_group = QButtonGroup(self)
        when_group.addButton(self.in_radio)
        when_group.addButton(self.at_radio)

        self.repeat_check = QCheckBox("Repeat")
        self.repeat_combo = QComboBox(editable=True)
        self.repeat_combo.addItems(REPEAT_EXAMPLES)
        self.zone_combo = QComboBox(editable=True)
        self.zone_combo.addItems(sorted(available_timezones()))
        self.zone_combo.setCurrentText(local_zone_name())
        self.when_problem = _problem_label()

    def _make_target_fields(self, choices: Choices) -> None:
        self.everyone_radio = QRadioButton("Everyone")
        self.groups_radio = QRadioButton("Groups")
        self.devices_radio = QRadioButton("Chosen devices")
        self.everyone_radio.setChecked(True)
        target_group = QButtonGroup(self)
        for button in (self.everyone_radio, self.groups_radio, self.devices_radio):
            target_group.addButton(button)

        self.groups_list = QListWidget()
        for name in choices.groups:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.groups_list.addItem(item)
        self.device_filter = QLineEdit(placeholderText="Find a device…")
        self.devices_list = QListWidget()
        for device_id, label in choices.devices:
            item = QListWidgetItem(f"{label} (#{device_id})")
            item.setData(Qt.ItemDataRole.UserRole, device_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.devices_list.addItem(item)
        for widget in (self.groups_list, self.devices_list):
            widget.setMaximumHeight(110)
        self.target_problem = _problem_label()

    def _make_advanced_fields(self, choices: Choices) -> None:
        self.ttl_spin = QSpinBox(minimum=0, maximum=MAX_TTL_SECONDS)
        self.ttl_spin.setSpecialValueText("0 (only devices online now)")
        self.ttl_unit = QComboBox()
        for name, _seconds in TTL_UNITS:
            self.ttl_unit.addItem(name)
        self._set_ttl(choices.default_ttl)
        self.urgency_combo = QComboBox()
        for urgency in Urgency:
            self.urgency_combo.addItem(urgency.value, urgency)
        self.urgency_combo.setCurrentText(choices.default_urgency.value)
        self.ttl_problem = _problem_label()

    def _lay_out(self) -> None:
        text = QFormLayout()
        text.addRow("&Title", _with_problem(self.title_edit, self.title_problem))
        text.addRow("&Message", _with_problem(self.message_edit, self.message_problem))
        text.addRow("Click &URL", _with_problem(self.url_edit, self.url_problem))
        text.addRow("&Icon", _with_problem(self.icon_edit, self.icon_problem))

        when = QGridLayout()
        when.addWidget(self.in_radio, 0, 0)
        when.addWidget(self.minutes_spin, 0, 1, 1, 2)
        when.addWidget(self.at_radio, 1, 0)
        when.addWidget(self.at_edit, 1, 1, 1, 2)
        when.addWidget(self.repeat_check, 2, 0)
        when.addWidget(self.repeat_combo, 2, 1)
        when.addWidget(self.zone_combo, 2, 2)
        when.addWidget(self.when_problem, 3, 0, 1, 3)
        when_box = QGroupBox("When")
        when_box.setLayout(when)

        target = QGridLayout()
        target.addWidget(self.everyone_radio, 0, 0)
        target.addWidget(self.groups_radio, 1, 0)
        target.addWidget(self.devices_radio, 1, 1)
        target.addWidget(self.groups_list, 2, 0)
        devices = QVBoxLayout()
        devices.addWidget(self.device_filter)
        devices.addWidget(self.devices_list)
        target.addLayout(devices, 2, 1)
        target.addWidget(self.reach_label, 3, 0, 1, 2)
        target.addWidget(self.target_problem, 4, 0, 1, 2)
        target_box = QGroupBox("Send to")
        target_box.setLayout(target)

        ttl_row = QHBoxLayout()
        ttl_row.addWidget(self.ttl_spin)
        ttl_row.addWidget(self.ttl_unit)
        advanced = QFormLayout()
        ttl_box = QVBoxLayout()
        ttl_box.addLayout(ttl_row)
        ttl_box.addWidget(self.ttl_problem)
        advanced.addRow("Keep if offline", ttl_box)
        advanced.addRow("Urgency", self.urgency_combo)
        advanced_box = QGroupBox("Advanced")
        advanced_box.setLayout(advanced)

        preview_box = QGroupBox("Preview")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview)
        preview_layout.addWidget(self.size_label)
        preview_layout.addStretch()

        left = QVBoxLayout()
        left.addLayout(text)
        left.addWidget(when_box)
        left.addStretch()
        right = QVBoxLayout()
        right.addWidget(preview_box)
        right.addWidget(target_box)
        right.addWidget(advanced_box)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.save_problem)
        layout.addWidget(self.buttons)

    def _fill_from(self, reminder: Reminder) -> None:
        self.title_edit.setText(reminder.title)
        self.message_edit.setPlainText(reminder.message)
        self.url_edit.setText(reminder.url or "")
        self.icon_edit.setText(reminder.icon or "")
        self._set_ttl(reminder.ttl)
        self.urgency_combo.setCurrentText(reminder.urgency.value)

        # A duplicate of a reminder long gone keeps the default "in 5 minutes".
        if self.mode is Mode.EDIT or reminder.due_at > self._clock():
            self.at_radio.setChecked(True)
            wall = reminder.due_at.astimezone()
            if reminder.repeat:
                rule = Recurrence.from_text(reminder.repeat)
                wall = reminder.due_at.astimezone(ZoneInfo(rule.timezone))
            self.at_edit.setDateTime(wall_clock(wall))
        if reminder.repeat:
            rule = Recurrence.from_text(reminder.repeat)
            self.repeat_check.setChecked(True)
            self.repeat_combo.setCurrentText(_rule_text(rule))
            self.zone_combo.setCurrentText(rule.timezone)

        target = reminder.target
        if target.groups:
            self.groups_radio.setChecked(True)
            _check_items(self.groups_list, lambda item: item.text() in target.groups)
        if target.subscription_ids:
            self.devices_radio.setChecked(True)
            _check_items(
                self.devices_list,
                lambda item: (
                    item.data(Qt.ItemDataRole.UserRole) in target.subscription_ids
                ),
            )

    def _set_ttl(self, seconds: int) -> None:
        for index, (_name, unit) in reversed(list(enumerate(TTL_UNITS))):
            if seconds % unit == 0:
                self.ttl_unit.setCurrentIndex(index)
                self.ttl_spin.setValue(seconds // unit)
                return

    def ttl(self) -> int:
        return self.ttl_spin.value() * TTL_UNITS[self.ttl_unit.currentIndex()][1]

    def target(self) -> Target:
        if self.groups_radio.isChecked():
            return Target(groups=tuple(_checked_names(self.groups_list)))
        if self.devices_radio.isChecked():
            return Target(subscription_ids=tuple(_checked_ids(self.devices_list)))
        return Target()

    def repeat(self) -> Recurrence | None:
        if not self.repeat_check.isChecked():
            return None
        return parse_rule(self.repeat_combo.currentText(), self._zone_name())

    def due_at(self) -> datetime:
        if self.in_radio.isChecked():
            return self._clock() + timedelta(minutes=self.minutes_spin.value())
        chosen = self.at_edit.dateTime().toPython()
        assert isinstance(chosen, datetime)
        if self.repeat_check.isChecked():
            # A repeating reminder keeps its wall time in its own zone.
            return chosen.replace(tzinfo=ZoneInfo(self._zone_name()))
        return chosen.astimezone()

    def form(self) -> ReminderForm:
        """The reminder as entered; raises InvalidInput naming what is wrong."""
        problems = self._problems()
        if problems:
            field, text = next(iter(problems.items()))
            raise InvalidInput(text, field)
        checked = self._reminders.check(
            self.title_edit.text(),
            self.message_edit.toPlainText(),
            self.url_edit.text(),
            self.icon_edit.text(),
        )
        return ReminderForm(
            checked.title,
            checked.message,
            checked.url,
            checked.icon,
            self.due_at(),
            self.target(),
            self.ttl(),
            Urgency(self.urgency_combo.currentData()),
            self.repeat(),
        )

    def accept(self) -> None:
        """Save through ``save``; on a problem stay open with what was typed."""
        if self._save is not None:
            try:
                self.saved = self._save(self, self.form())
            except PushdeskError as exc:
                _show(self.save_problem, str(exc))
                return
        super().accept()

    def _zone_name(self) -> str:
        name = self.zone_combo.currentText().strip()
        try:
            ZoneInfo(name)
        except (ValueError, KeyError):
            raise InvalidInput(f"{name!r} is not a time zone.", "timezone") from None
        return name

    def _problems(self) -> dict[str, str]:
        """Every field's problem at once, so each shows beside its field."""
        problems: dict[str, str] = {}

        def note(field: str, check: Callable[[], object]) -> None:
            try:
                check()
            except InvalidInput as exc:
                problems.setdefault(exc.field or field, str(exc))

        title, message = self.title_edit.text(), self.message_edit.toPlainText()
        url, icon = self.url_edit.text(), self.icon_edit.text()
        note("url", lambda: self._reminders.check("x", "x", url))
        note("icon", lambda: self._reminders.check("x", "x", None, icon))

        # The size counts the URL and icon too, when they are usable.
        good_url = None if "url" in problems else url
        good_icon = None if "icon" in problems else icon
        note(
            "message",
            lambda: self._reminders.check(title, message, good_url, good_icon),
        )
        note("due_at", self._check_when)
        note("target", self._check_target)
        if self.ttl() > MAX_TTL_SECONDS:
            problems["ttl"] = "Push services keep a message 28 days at most."
        return problems

    def _check_when(self) -> None:
        self.repeat()
        if self.due_at() < self._clock() - timedelta(seconds=1):
            raise InvalidInput("That time is in the past.", "due_at")

    def _check_target(self) -> None:
        target = self.target()
        if self.groups_radio.isChecked() and not target.groups:
            raise InvalidInput("Choose at least one group.", "target")
        if self.devices_radio.isChecked() and not target.subscription_ids:
            raise InvalidInput("Choose at least one device.", "target")
        reached = self._reminders.devices_reached(target)
        self.reach_label.setText(
            f"Reaches {reached} device{'s' if reached != 1 else ''} now."
            if reached
            else "No device would receive it now."
        )

    def _revalidate(self) -> None:
        self.minutes_spin.setEnabled(self.in_radio.isChecked())
        self.at_edit.setEnabled(self.at_radio.isChecked())
        self.repeat_combo.setEnabled(self.repeat_check.isChecked())
        self.zone_combo.setEnabled(self.repeat_check.isChecked())
        self.groups_list.setEnabled(self.groups_radio.isChecked())
        self.devices_list.setEnabled(self.devices_radio.isChecked())
        self.device_filter.setEnabled(self.devices_radio.isChecked())

        problems = self._problems()
        _show(self.title_problem, problems.get("title", ""))
        _show(self.message_problem, problems.get("message", ""))
        _show(self.url_problem, problems.get("url", ""))
        _show(self.icon_problem, problems.get("icon", ""))
        when = problems.get("due_at", "") or problems.get("repeat", "")
        _show(self.when_problem, when or problems.get("timezone", ""))
        _show(self.target_problem, problems.get("target", ""))
        _show(self.ttl_problem, problems.get("ttl", ""))
        self.ok_button.setEnabled(not problems)
        self._update_preview()

    def _update_preview(self) -> None:
        title = self.title_edit.text().strip() or "pushdesk"
        message = self.message_edit.toPlainText().strip()
        url, icon = self.url_edit.text().strip(), self.icon_edit.text().strip()
        self.preview.show_notification(title, message, url or None)

        size = payload_size(title, message, url or None, icon or None)
        self.size_label.setText(f"{size:,} of {MAX_PAYLOAD_BYTES:,} bytes")
        self.size_label.setStyleSheet(PROBLEM_STYLE if size > MAX_PAYLOAD_BYTES else "")

    def _filter_devices(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.devices_list.count()):
            item = self.devices_list.item(row)
            item.setHidden(bool(needle) and needle not in item.text().lower())


def _rule_text(rule: Recurrence) -> str:
    """The rule as the operator would type it again."""
    days = ",".join(DAY_NAMES[day] for day in rule.weekdays)
    if rule.kind == "cron":
        return f"cron {rule.cron}"
    if rule.kind == "every":
        return f"every {rule.interval}{'m' if rule.unit == 'minutes' else 'h'}"
    if rule.interval == 1:
        return f"weekly {days}" if rule.kind == "weekly" else rule.kind
    unit = {"daily": "days", "weekly": "weeks", "monthly": "months"}[rule.kind]
    return f"every {rule.interval} {unit} {days}".rstrip()


def _checked_names(widget: QListWidget) -> list[str]:
    return [item.text() for item in _items(widget) if _is_checked(item)]


def _checked_ids(widget: QListWidget) -> list[int]:
    return [
        int(item.data(Qt.ItemDataRole.UserRole))
        for item in _items(widget)
        if _is_checked(item)
    ]


def _check_items(
    widget: QListWidget, wanted: Callable[[QListWidgetItem], bool]
) -> None:
    for item in _items(widget):
        if wanted(item):
            item.setCheckState(Qt.CheckState.Checked)


def _items(widget: QListWidget) -> list[QListWidgetItem]:
    return [widget.item(row) for row in range(widget.count())]


def _is_checked(item: QListWidgetItem) -> bool:
    return item.checkState() == Qt.CheckState.Checked
