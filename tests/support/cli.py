"""``pushdesk …`` run in-process, as the command-line tests run it."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pushdesk.cli import main
from pushdesk.config import DATA_DIR_ENV


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The exit status, stdout and stderr of one command."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command that argparse must refuse (exit 2); its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def help_text(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    """What ``pushdesk COMMAND --help`` prints; it must exit 0."""
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def assert_refused_without_data(
    capsys: pytest.CaptureFixture[str], missing: Path, *argv: str
) -> None:
    """The command exits 1 with one sentence naming the missing data folder,
    and does not create it."""
    code, out, err = run(capsys, *argv, "--data-dir", str(missing))

    assert (code, out) == (1, "")
    assert err == (
        f"pushdesk: There is no pushdesk data in {missing}; check --data-dir "
        f"or ${DATA_DIR_ENV}.\n"
    )
    assert not missing.exists()


def facts(out: str) -> dict[str, str]:
    """The "field  value" lines of a ``show`` or a plain report, by field."""
    pairs = (re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def utc(moment: datetime) -> str:
    """A time as ``--json`` writes it: 2026-12-04T17:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cli:
    """``pushdesk …`` on the test's data folder."""

    def __init__(self, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
        self._capsys = capsys
        self._data_dir = str(data_dir)

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        return run(self._capsys, *argv, "--data-dir", self._data_dir)

    def usage_error(self, *argv: str) -> str:
        return usage_error(self._capsys, *argv, "--data-dir", self._data_dir)

    def json(self, *argv: str) -> list[dict[str, Any]]:
        """The rows a listing that must succeed prints with ``--json``."""
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        rows = json.loads(out)
        assert isinstance(rows, list)
        return rows
