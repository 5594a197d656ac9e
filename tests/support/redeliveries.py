"""Pushes a test had to hand to the browser more than once.

A retry hides the failure it recovers from, so each one is written down and
shown at the end of the run (see ``pytest_terminal_summary`` in
``tests/conftest.py``), where a flaky browser shows itself even when every
test passed.
"""

import os

noted: list[str] = []


def note(outcomes: list[str]) -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST", "a test").split(" ")[0]
    noted.append(f"{test}: Chromium reported {outcomes}")
