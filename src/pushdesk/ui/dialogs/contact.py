"""Asks once for the VAPID contact that push services may use to reach us."""

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from pushdesk.errors import InvalidInput
from pushdesk.validation import check_vapid_subject


class ContactDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("pushdesk — your contact")
        explanation = QLabel(
            "Push services (Google, Mozilla, Apple) ask every sender for a contact "
            "they can write to if something goes wrong: a mailto: address or an "
            "https: page of yours."
        )
        explanation.setWordWrap(True)
        self.subject_edit = QLineEdit(placeholderText="mailto:you@example.org")
        self.problem_label = QLabel()
        self.problem_label.setStyleSheet("color: #c62828;")
        self.problem_label.setWordWrap(True)
        self.setMinimumWidth(480)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(self.subject_edit)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

        self.subject_edit.textChanged.connect(self._revalidate)
        self._revalidate()

    def subject(self) -> str:
        return check_vapid_subject(self.subject_edit.text())

    def _revalidate(self) -> None:
        try:
            self.subject()
        except InvalidInput as exc:
            problem = str(exc) if self.subject_edit.text() else ""
            valid = False
        else:
            problem, valid = "", True
        self.problem_label.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(valid)
