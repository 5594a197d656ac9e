"""Message boxes that show their text as text.

QMessageBox guesses whether its text is rich text; device names come from
visitors' phones and reminder titles from anyone with the CLI, so a name like
``<h1>…</h1><a href=…>`` would be drawn as a heading and a link.
"""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def message_box(
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    parent: QWidget | None,
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
) -> QMessageBox:
    """A box, not yet open; put only fixed wording in its informative text."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def show_problem(text: str, parent: QWidget | None) -> QMessageBox:
    """One sentence about what went wrong, opened (never exec'd) and freed on close."""
    box = message_box(QMessageBox.Icon.Warning, "pushdesk", text, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
