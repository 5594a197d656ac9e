"""``pushdesk completion``: the scripts shtab writes, tried in a real bash."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pushdesk import settings as catalogue
from pushdesk.cli import build_parser
from pushdesk.cli.common import FILE_NAMES, FOLDER_NAMES
from pushdesk.cli.completion import SHELLS
from tests.support.cli import help_text, run, usage_error

# Completes the words of COMPLINE (the last may be empty) as bash does on Tab:
# the function `complete -p pushdesk` names is called with COMP_WORDS set.
COMPLETE = r"""
source "$1"
complete -p pushdesk || exit 3
function=$(complete -p pushdesk | sed -E 's/.* -F ([^ ]+) .*/\1/')
read -ra COMP_WORDS <<< "$COMPLINE"
[[ $COMPLINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$COMPLINE
COMP_POINT=${#COMPLINE}
COMPREPLY=()
"$function" pushdesk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


def completion_script(capsys: pytest.CaptureFixture[str], shell: str) -> str:
    code, out, err = run(capsys, "completion", shell)
    assert (code, err) == (0, "")
    return out


@pytest.fixture
def bash_script(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    path = tmp_path / "pushdesk.bash"
    path.write_text(completion_script(capsys, "bash"))
    return path


def offered(script: Path, line: str, cwd: Path | None = None) -> list[str]:
    """What bash offers on Tab at the end of ``line``, in the folder ``cwd``."""
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed to try the completion"
    done = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", COMPLETE, "complete", str(script)],
        cwd=cwd,
        env={"COMPLINE": line, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.splitlines()[1:]  # the first line is `complete -p`'s


def top_level_commands() -> list[str]:
    verbs = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    return list(verbs.choices)  # type: ignore[arg-type]


def test_bash_registers_a_completion_for_pushdesk(
    bash_script: Path,
) -> None:
    done = subprocess.run(
        ["bash", "--norc", "-c", 'source "$1"; complete -p pushdesk', "x", bash_script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert done.stdout.startswith("complete ")
    assert done.stdout.rstrip().endswith(" pushdesk")


def test_bash_completes_commands(bash_script: Path) -> None:
    assert offered(bash_script, "pushdesk rem") == ["remind", "reminders"]
    assert set(offered(bash_script, "pushdesk ")) >= set(top_level_commands())


def test_bash_completes_options_and_their_choices(bash_script: Path) -> None:
    assert offered(bash_script, "pushdesk log --outcome re") == [
        "retry",
        "rejected",
        "refused",
    ]
    assert offered(bash_script, "pushdesk completion ") == ["bash", "zsh"]
    assert "--limit" in offered(bash_script, "pushdesk log --")


def test_bash_completes_setting_names(bash_script: Path) -> None:
    assert offered(bash_script, "pushdesk settings ") == ["get", "set"]
    assert offered(bash_script, "pushdesk settings get default_") == [
        "default_ttl",
        "default_urgency",
    ]
    assert offered(bash_script, "pushdesk settings set ")[0] == "vapid_subject"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding a file devices.json and a folder keys."""
    here = tmp_path / "here"
    (here / "keys").mkdir(parents=True)
    (here / "devices.json").write_text("[]")
    return here


@pytest.mark.parametrize(
    "line",
    [
        "pushdesk devices import ",
        "pushdesk subscribers import ",
        "pushdesk devices export --output ",
        "pushdesk log --csv ",
        "pushdesk serve --cert ",
        "pushdesk serve --key ",
        "pushdesk --cert ",
    ],
)
def test_bash_offers_file_names_where_a_file_goes(
    bash_script: Path, folder: Path, line: str
) -> None:
    assert sorted(offered(bash_script, line, cwd=folder)) == ["devices.json", "keys"]
    assert offered(bash_script, line + "dev", cwd=folder) == ["devices.json"]


@pytest.mark.parametrize(
    "line", ["pushdesk --data-dir ", "pushdesk reminders --data-dir "]
)
def test_bash_offers_only_folders_for_the_data_folder(
    bash_script: Path, folder: Path, line: str
) -> None:
    assert offered(bash_script, line, cwd=folder) == ["keys"]


def test_an_id_is_not_completed_as_a_file(bash_script: Path, folder: Path) -> None:
    assert "devices.json" not in offered(bash_script, "pushdesk devices show ", folder)


@pytest.mark.parametrize("shell", SHELLS)
def test_the_file_and_folder_completions_are_shtabs(shell: str) -> None:
    import shtab

    assert FILE_NAMES[shell] == shtab.FILE[shell]
    assert FOLDER_NAMES[shell] == shtab.DIRECTORY[shell]


def test_commands_other_than_completion_do_not_load_shtab(data_dir: Path) -> None:
    # In a process of its own: this one has loaded shtab for the tests above.
    check = (
        "import sys\n"
        "from pushdesk.cli import main\n"
        "assert main(['groups', '--data-dir', sys.argv[1]]) == 1\n"
        "print('shtab' in sys.modules)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", check, str(data_dir / "none")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert done.stdout == "False\n"


def test_zsh_script_is_a_compdef_for_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = completion_script(capsys, "zsh")

    assert script.startswith("#compdef pushdesk\n")
    for command in top_level_commands():
        assert f"    {command}:'" in script, command
    for setting in catalogue.CATALOGUE:
        assert f" {setting.name}" in script or f"({setting.name} " in script


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_loads_the_script_as_the_completion_of_pushdesk(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # As a user installs it: a file named _pushdesk in a folder on $fpath,
    # picked up by compinit. (.ci/run installs zsh.) -D: no dump file, as
    # compinit replaces the file it dumps to (never give it /dev/null).
    path = tmp_path / "_pushdesk"
    path.write_text(completion_script(capsys, "zsh"))
    subprocess.run(["zsh", "-n", str(path)], timeout=30, check=True)

    loaded = subprocess.run(
        [
            "zsh",
            "-f",
            "-c",
            f"fpath=({tmp_path} $fpath); autoload -U compinit; "
            "compinit -u -D; print -r -- $_comps[pushdesk]",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "_pushdesk"


def test_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert "invalid choice: 'fish'" in usage_error(capsys, "completion", "fish")


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(capsys, "completion")

    assert "Example: pushdesk completion bash > " in out
