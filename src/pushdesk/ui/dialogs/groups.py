"""The "Groups" dialog: tick the groups a device is in, or make a new one."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pushdesk.domain import Subscription
from pushdesk.errors import InvalidInput
from pushdesk.services.subscriptions import SubscriptionService


class GroupsDialog(QDialog):
    """Lists every group with a tick for the device's own; ``chosen()`` on OK.

    A group added here exists at once, even if the dialog is then cancelled.
    """

    def __init__(
        self,
        devices: SubscriptionService,
        device: Subscription,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Groups")
        self.setMinimumWidth(360)
        self._devices = devices

        self.group_list = QListWidget()
        member_of = {name.lower() for name in device.groups}
        for name in devices.groups():
            self._add_item(name, checked=name.lower() in member_of)
        self.new_edit = QLineEdit(placeholderText="New group name")
        self.add_button = QPushButton("&Add group")
        self.add_button.setEnabled(False)
        self.problem_label = QLabel()
        self.problem_label.setStyleSheet("color: #c62828;")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )

        self._lay_out(device)
        self.new_edit.textChanged.connect(self._typing)
        self.add_button.clicked.connect(self.add_group)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def _lay_out(self, device: Subscription) -> None:
        name = device.label or f"device {device.id}"
        adding = QHBoxLayout()
        adding.addWidget(self.new_edit, 1)
        adding.addWidget(self.add_button)

        layout = QVBoxLayout(self)
        heading = QLabel(f"Groups {name} is in:")
        heading.setTextFormat(Qt.TextFormat.PlainText)  # a visitor chose the name
        layout.addWidget(heading)
        layout.addWidget(self.group_list)
        layout.addLayout(adding)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

    def chosen(self) -> list[str]:
        """The ticked groups, in list order."""
        items = (self.group_list.item(row) for row in range(self.group_list.count()))
        return [
            item.text() for item in items if item.checkState() == Qt.CheckState.Checked
        ]

    def add_group(self) -> bool:
        """Create the typed group and tick it; False (reason shown) if refused."""
        try:
            name = self._devices.create_group(self.new_edit.text())
        except InvalidInput as exc:
            self._show_problem(str(exc))
            return False

        # Names compare without case: "kitchen" ticks an existing "Kitchen".
        found = self.group_list.findItems(name, Qt.MatchFlag.MatchFixedString)
        item = found[0] if found else self._add_item(name, checked=True)
        item.setCheckState(Qt.CheckState.Checked)
        self.group_list.scrollToItem(item)
        self.new_edit.clear()
        self._show_problem("")
        return True

    def accept(self) -> None:
        # A name typed but not yet added is what the operator meant to add.
        if self.new_edit.text().strip() and not self.add_group():
            return
        super().accept()

    def _add_item(self, name: str, *, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(name, self.group_list)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        item.setCheckState(state)
        return item

    def _typing(self, text: str) -> None:
        typed = bool(text.strip())
        self.add_button.setEnabled(typed)
        # Enter adds the group being typed rather than closing the dialog.
        self.add_button.setDefault(typed)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setDefault(not typed)

    def _show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.setVisible(bool(text))
