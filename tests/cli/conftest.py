"""Fixtures of the command-line tests (tests/conftest.py has the rest)."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cli import Cli
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    # Replaces tests/conftest.py's: the commands read the system clock, so what
    # the services here call now is the real time too.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], data_dir: Path) -> Cli:
    """``pushdesk …`` on the test's data folder (the ``store`` fixture makes it)."""
    return Cli(capsys, data_dir)


@pytest.fixture
def kathmandu() -> Iterator[str]:
    """This machine's time zone is Asia/Kathmandu (UTC+05:45) during the test,
    so a local time in the output cannot pass for UTC; yields the zone's name."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Asia/Kathmandu")
        time.tzset()
        yield "Asia/Kathmandu"
    time.tzset()
