"""The Qt binding itself keeps Python's reference counts right.

PySide6 6.12.0 on Python 3.11 dropped a reference to None on every call of a
void method; a window left running for a while then died with "Fatal Python
error: none_dealloc". pyproject.toml keeps that release out; this test says
so if a new one brings the fault back.
"""

import sys

from PySide6.QtWidgets import QLabel, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

CALLS = 2000


def test_void_methods_keep_the_reference_to_none(qtbot: QtBot) -> None:
    label = QLabel("x")
    tabs = QTabWidget()
    tabs.addTab(QWidget(), "a")
    qtbot.addWidget(label)
    qtbot.addWidget(tabs)

    before = sys.getrefcount(None)
    for _ in range(CALLS):
        label.setVisible(False)
        tabs.setTabText(0, "b")
    lost = before - sys.getrefcount(None)

    # Other code may drop a few references meanwhile; the fault drops one per call.
    assert lost < CALLS // 2
