"""``pushdesk settings``: show, get and set the operator's settings.

Values are written as the window's boxes take them (``1h``, ``on``, ``own-ca``)
and checked by the same catalogue, through the settings service.
"""

import argparse
import difflib
import json
import types
from dataclasses import replace
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from pushdesk import settings as catalogue
from pushdesk.cli.common import (
    Verbs,
    add_command,
    add_json_option,
    open_services,
    print_one,
    print_rows,
)
from pushdesk.cli.completion import SETTING_NAMES
from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.settings import OperatorSettings

TRUE_WORDS = ("on", "true", "yes", "1")
FALSE_WORDS = ("off", "false", "no", "0")
# How an absent value is written: the page's port chosen by the HTTPS mode,
# no certificate file, no contact.
AUTOMATIC = "auto"
NOTHING = "none"


def add_commands(verbs: Verbs) -> None:
    settings = add_command(
        verbs,
        "settings",
        "show, get or set the operator's settings",
        "Show every setting with its value, meaning and when a change applies.\n\n"
        "Durations are written 90s, 5m, 2h or 1d; switches on or off; no value "
        "none (for the page's port: auto, chosen by the HTTPS mode).",
        "pushdesk settings",
        "pushdesk settings set default_ttl 2h",
        run=run_show,
    )
    add_json_option(settings)
    verbs_of_settings = settings.add_subparsers(title="verbs", metavar="VERB")

    get = add_command(
        verbs_of_settings,
        "get",
        "print one setting's value",
        "Print one setting's value as `set` takes it; with --json, as "
        "`settings --json` has it.",
        "pushdesk settings get max_lateness",
        run=run_get,
    )
    add_json_option(get)
    _add_name(get)

    put = add_command(
        verbs_of_settings,
        "set",
        "change one setting, checked as in the window",
        "Change one setting, checked as the Settings window checks it, and say "
        "when the change takes effect.",
        "pushdesk settings set vapid_subject mailto:ops@example.org",
        run=run_set,
    )
    _add_name(put)
    put.add_argument("value", metavar="VALUE", help="the new value, as `get` prints")


def _add_name(parser: argparse.ArgumentParser) -> None:
    name = parser.add_argument(
        "name", metavar="NAME", help="the setting, as `pushdesk settings` lists it"
    )
    # shtab reads this to complete the names (see cli/completion.py).
    name.complete = SETTING_NAMES  # type: ignore[attr-defined]


def run_show(args: argparse.Namespace) -> int:
    current = open_services(args, existing=True).settings.current()
    if args.json:
        print_one(
            {s.name: json_value(getattr(current, s.name)) for s in catalogue.CATALOGUE},
            as_json=True,
        )
        return 0
    rows = [
        {
            "name": s.name,
            "value": human_value(getattr(current, s.name), s.name),
            "meaning": s.label,
            "applies": s.applies.value,
        }
        for s in catalogue.CATALOGUE
    ]
    print_rows(rows, False, ["name", "value", "meaning", "applies"])
    return 0


def run_get(args: argparse.Namespace) -> int:
    name = setting_name(args.name)
    value = getattr(open_services(args, existing=True).settings.current(), name)
    if args.json:
        print(json.dumps(json_value(value), ensure_ascii=False))
    else:
        print(human_value(value, name))
    return 0


def run_set(args: argparse.Namespace) -> int:
    name = setting_name(args.name)
    try:
        value = parse_value(name, args.value)
    except InvalidInput as exc:
        raise PushdeskError(f"{name}: {exc}") from None

    # Created if missing: a machine may be set up before pushdesk first starts.
    service = open_services(args).settings
    wanted = replace(service.current(), **{name: value})
    _refuse_problems(name, service.problems(wanted))
    changed = service.save(wanted)

    shown = human_value(getattr(service.current(), name), name)
    if not changed:
        print(f"{name} is already {shown}.")
        return 0
    print(f"{name} is now {shown}.")
    print(catalogue.notice(changed) or "It takes effect at once.")
    return 0


def _refuse_problems(name: str, problems: dict[str, str]) -> None:
    """The one sentence of the window's check; the set setting's own first."""
    if name in problems:
        raise PushdeskError(f"{name}: {problems[name]}")
    if problems:
        other, problem = next(iter(problems.items()))
        raise PushdeskError(
            f"{name} cannot be saved until {other} is corrected: {problem}"
        )


def setting_name(given: str) -> str:
    """The field name of ``given`` (dashes read as underscores), or why not."""
    name = given.strip().lower().replace("-", "_")
    if name in catalogue.BY_NAME:
        return name

    close = difflib.get_close_matches(name, catalogue.BY_NAME, n=3, cutoff=0.6)
    if not close:
        raise PushdeskError(
            f"There is no setting {given!r}; `pushdesk settings` lists them."
        )
    options = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    raise PushdeskError(f"There is no setting {given!r}; did you mean {options}?")


# --- values as the operator writes them ----------------------------------------

_TYPES = get_type_hints(OperatorSettings)


def _kind(name: str) -> tuple[type, bool]:
    """The type of a setting's values, and whether it may be absent."""
    hint = _TYPES[name]
    if get_origin(hint) in (Union, types.UnionType):
        present = [t for t in get_args(hint) if t is not type(None)]
        return present[0], True
    return hint, False


def parse_value(name: str, text: str) -> Any:
    """``text`` read as the setting's type; InvalidInput says why it cannot be."""
    kind, optional = _kind(name)
    text = text.strip()
    if optional and text.lower() in ("", _absent(kind)):
        return None
    if kind is bool:
        return _switch(text)
    if kind is int:
        return _whole_number(text, optional)
    if kind is timedelta:
        return catalogue.parse_duration(text)
    if issubclass(kind, Enum):
        return _choice(kind, text)
    if kind is Path:
        # Made absolute here: a running pushdesk has another working folder.
        return Path(text).expanduser().absolute()
    return text


def _absent(kind: type) -> str:
    return AUTOMATIC if kind is int else NOTHING


def _switch(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidInput(f"{text!r} is not on or off (or yes, no, true, false, 1, 0).")


def _whole_number(text: str, optional: bool) -> int:
    digits = text.removeprefix("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        also = f", or {AUTOMATIC}" if optional else ""
        raise InvalidInput(f"{text!r} is not a whole number{also}.")
    return int(text)


def _choice(kind: type[Enum], text: str) -> Enum:
    word = text.lower().replace("_", "-")
    for member in kind:
        if member.value == word:
            return member
    names = ", ".join(str(member.value) for member in kind)
    raise InvalidInput(f"{text!r} is not one of {names}.")


def human_value(value: Any, name: str) -> str:
    """The value as ``set`` takes it back."""
    if value is None:
        return _absent(_kind(name)[0])
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, timedelta):
        return catalogue.format_duration(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def json_value(value: Any) -> Any:
    """The value for scripts: durations in seconds, names of choices, null."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value
