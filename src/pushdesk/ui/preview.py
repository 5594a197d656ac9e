"""Roughly how a reminder will look as a notification on a phone or desktop."""

from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from pushdesk.resources import resources_dir

ICON_SIZE = 40

# Browsers cut a notification's body after a few lines; this is close to
# what Chrome on Android shows collapsed.
BODY_LINES = 4
BODY_CHARACTERS = 240


class NotificationPreview(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationPreview")
        self.setStyleSheet(
            "#notificationPreview { background: #f7f7f9; border: 1px solid #d0d0d8;"
            " border-radius: 8px; }"
        )
        self.icon_label = QLabel()
        icon = QPixmap(str(resources_dir() / "icons" / "pushdesk.png"))
        self.icon_label.setPixmap(
            icon.scaled(
                ICON_SIZE,
                ICON_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.source_label = QLabel()
        self.source_label.setStyleSheet("color: #666; font-size: 11px;")
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: bold;")
        self.body_label = QLabel()
        for label in (self.title_label, self.body_label):
            label.setWordWrap(True)
        for label in (self.source_label, self.title_label, self.body_label):
            # Reminder text is text: never let Qt read it as rich text.
            label.setTextFormat(Qt.TextFormat.PlainText)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.source_label)
        text.addWidget(self.title_label)
        text.addWidget(self.body_label)
        layout = QHBoxLayout(self)
        layout.addWidget(self.icon_label)
        layout.addLayout(text, 1)

    def show_notification(self, title: str, body: str, url: str | None) -> None:
        self.title_label.setText(title)
        self.body_label.setText(_shortened(body) or "(no message)")
        where = urlsplit(url).hostname if url else None
        self.source_label.setText(
            f"pushdesk · opens {where}" if where else "pushdesk · opens the page"
        )


def _shortened(body: str) -> str:
    lines = body.splitlines()
    shown = "\n".join(lines[:BODY_LINES])
    if len(shown) > BODY_CHARACTERS:
        shown = shown[:BODY_CHARACTERS].rstrip()
    return shown + ("…" if shown != body else "")
