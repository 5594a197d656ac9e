"""The operator's settings: each one's type, default, check, and when a change
takes effect.

Qt-free, so the settings dialog, the services and the composition root share
it. Values are kept as text in the ``settings`` table, one row per setting; a
setting never saved has its default.
"""

import ipaddress
import re
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar

from pushdesk.config import (
    DEFAULT_HOST,
    DEFAULT_HTTPS_PORT,
    DEFAULT_PORT,
    ServerOptions,
    ServerOverrides,
    TlsMode,
)
from pushdesk.domain import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_LATENESS,
    DEFAULT_TTL_SECONDS,
    MAX_CONCURRENCY,
    MAX_TTL,
    MIN_MAX_LATENESS,
    Urgency,
)
from pushdesk.errors import InvalidInput, StartupError
from pushdesk.validation import LABEL_LENGTH_CAP, check_vapid_subject

# A device not seen for this long is warned by a push, and removed this long
# after the warning if it stays quiet (scheduling/hygiene.py).
DEFAULT_STALE_AFTER_DAYS = 60
MAX_STALE_AFTER_DAYS = 3650
DEFAULT_REMOVE_AFTER_WARNING_DAYS = 14
MAX_REMOVE_AFTER_WARNING_DAYS = 365

# Limits per client address. A page posts a few hundred bytes; a family behind
# one NAT has a handful of devices; a test notification is asked for rarely.
DEFAULT_MAX_BODY_KB = 16
DEFAULT_SUBSCRIPTIONS_PER_ADDRESS = 20
DEFAULT_SUBSCRIBES_PER_MINUTE = 30
DEFAULT_TESTS_PER_MINUTE = 3
DEFAULT_WEBSOCKETS_PER_ADDRESS = 10
DEFAULT_MAX_LABEL_LENGTH = 100

# Reminders visitors set from the page for their own device
# (services/self_reminders.py). "Check the oven in 15 minutes" is the use; a
# week ahead is plenty, and ten waiting per device is more than a person keeps.
DEFAULT_VISITOR_PENDING_PER_DEVICE = 10
DEFAULT_VISITOR_MIN_DELAY_MINUTES = 1
DEFAULT_VISITOR_MAX_DELAY_DAYS = 7
DEFAULT_VISITOR_MESSAGE_LENGTH = 200
DEFAULT_VISITOR_REQUESTS_PER_MINUTE = 20
# A visitor's message goes out as one push with a short title; this many
# characters always fit its 3,993 bytes, even each taking 4 bytes of UTF-8
# and escaped in JSON.
MAX_VISITOR_MESSAGE_LENGTH = 500

T = TypeVar("T")


class Applies(Enum):
    """When a changed setting takes effect."""

    AT_ONCE = "at once"
    SERVER_RESTART = "server restart"  # in-process; open pages reconnect
    NEXT_START = "next start"  # of pushdesk itself


@dataclass(frozen=True)
class OperatorSettings:
    """Every setting, typed; the field defaults are pushdesk's defaults."""

    vapid_subject: str | None = None
    host: str = DEFAULT_HOST
    port: int | None = None  # None: 8443 with HTTPS, 8080 with plain HTTP
    http_port: int = DEFAULT_PORT  # the set-up page beside HTTPS
    tls: TlsMode = TlsMode.OWN_CA
    cert: Path | None = None  # kept while another mode is chosen, for later
    key: Path | None = None
    default_ttl: timedelta = timedelta(seconds=DEFAULT_TTL_SECONDS)
    default_urgency: Urgency = Urgency.NORMAL
    max_lateness: timedelta = DEFAULT_MAX_LATENESS
    concurrency: int = DEFAULT_CONCURRENCY
    start_minimised: bool = False
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS
    remove_after_warning_days: int = DEFAULT_REMOVE_AFTER_WARNING_DAYS
    # What one client address may ask of the server (server/limits.py).
    max_body_kb: int = DEFAULT_MAX_BODY_KB
    subscriptions_per_address: int = DEFAULT_SUBSCRIPTIONS_PER_ADDRESS
    subscribes_per_minute: int = DEFAULT_SUBSCRIBES_PER_MINUTE
    tests_per_minute: int = DEFAULT_TESTS_PER_MINUTE
    websockets_per_address: int = DEFAULT_WEBSOCKETS_PER_ADDRESS
    max_label_length: int = DEFAULT_MAX_LABEL_LENGTH
    # Reminders visitors set from the page for their own device.
    visitor_reminders: bool = True
    visitor_pending_per_device: int = DEFAULT_VISITOR_PENDING_PER_DEVICE
    visitor_min_delay_minutes: int = DEFAULT_VISITOR_MIN_DELAY_MINUTES
    visitor_max_delay_days: int = DEFAULT_VISITOR_MAX_DELAY_DAYS
    visitor_message_length: int = DEFAULT_VISITOR_MESSAGE_LENGTH
    visitor_requests_per_minute: int = DEFAULT_VISITOR_REQUESTS_PER_MINUTE

    @property
    def main_port(self) -> int:
        if self.port is not None:
            return self.port
        return DEFAULT_PORT if self.tls is TlsMode.PLAIN_HTTP else DEFAULT_HTTPS_PORT


@dataclass(frozen=True)
class ReminderDefaults:
    """What a new reminder starts with in the reminder dialog."""

    ttl: int  # seconds
    urgency: Urgency


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One row of the catalogue: how a field is stored, checked and applied."""

    name: str  # the field of OperatorSettings
    key: str  # its row in the settings table
    label: str
    applies: Applies
    to_text: Callable[[T], str]
    from_text: Callable[[str], T]
    check: Callable[[T], T] = lambda value: value  # the value, or InvalidInput


# --- checks of single values ---------------------------------------------------

_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
    re.IGNORECASE,
)


def check_subject(subject: str | None) -> str | None:
    if subject is None or not subject.strip():
        raise InvalidInput(
            "Push services need a contact: a mailto: address or an https: page."
        )
    return check_vapid_subject(subject)


def check_host(host: str) -> str:
    """An address of this machine to listen on; empty means all of them."""
    host = host.strip()
    if not host:
        return DEFAULT_HOST
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST_NAME.match(host) or host.replace(".", "").isdigit():
        raise InvalidInput(
            f"{host!r} is not an address; write one of this machine's, like "
            "192.168.1.20, or 0.0.0.0 for all of them."
        )
    return host


def check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise InvalidInput(f"{port} is not a port from 1 to 65535.")
    return port


def check_main_port(port: int | None) -> int | None:
    return None if port is None else check_port(port)


def check_ttl(ttl: timedelta) -> timedelta:
    if ttl < timedelta(0):
        raise InvalidInput("The time to live cannot be negative.")
    if ttl > MAX_TTL:
        raise InvalidInput(
            "Push services keep a message for at most 28 days; choose 28d or less."
        )
    return ttl


def check_max_lateness(lateness: timedelta) -> timedelta:
    if lateness < MIN_MAX_LATENESS:
        raise InvalidInput(
            "The maximum lateness must be at least 1 minute: a running pushdesk "
            "needs a moment to fire."
        )
    return lateness


def check_concurrency(concurrency: int) -> int:
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(
            f"From 1 to {MAX_CONCURRENCY} pushes may be in flight at once, "
            f"not {concurrency}."
        )
    return concurrency


def check_stale_after_days(days: int) -> int:
    if not 1 <= days <= MAX_STALE_AFTER_DAYS:
        raise InvalidInput(
            f"Devices may stay unseen from 1 to {MAX_STALE_AFTER_DAYS} days before "
            f"they are warned, not {days}."
        )
    return days


def check_remove_after_warning_days(days: int) -> int:
    if not 1 <= days <= MAX_REMOVE_AFTER_WARNING_DAYS:
        raise InvalidInput(
            f"A warned device is removed from 1 to {MAX_REMOVE_AFTER_WARNING_DAYS} "
            f"days after the warning, not {days}."
        )
    return days


def check_limit(low: int, high: int, what: str) -> Callable[[int], int]:
    """A check that a limit is from ``low`` to ``high``; ``what`` names it."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise InvalidInput(f"{what} must be from {low} to {high}, not {value}.")
        return value

    return check


def read_limit(low: int, high: int) -> Callable[[str], int]:
    """Reads a saved limit; one out of range (edited by hand) does not read,
    so it keeps its default rather than refusing every client."""

    def read(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return read


# --- durations as the operator writes them -------------------------------------

_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``5m``, ``2h``, ``1d``; a bare number means minutes (as the CLI)."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidInput(
            f"{text.strip()!r} is not a duration; write 90s, 5m, 2h or 1d."
        )
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def format_duration(duration: timedelta) -> str:
    """The shortest exact form ``parse_duration`` reads back."""
    seconds = int(duration.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


# --- the catalogue -------------------------------------------------------------


def _seconds(duration: timedelta) -> str:
    return str(int(duration.total_seconds()))


def _duration(text: str) -> timedelta:
    return timedelta(seconds=int(text))


def _optional_port(text: str) -> int | None:
    return int(text) if text else None


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


CATALOGUE: tuple[Setting[Any], ...] = (
    Setting[str | None](
        "vapid_subject",
        "vapid_subject",
        "Contact for push services",
        Applies.AT_ONCE,
        lambda subject: subject or "",
        lambda text: text or None,
        check_subject,
    ),
    Setting[str](
        "host", "host", "Listen on", Applies.SERVER_RESTART, str, str, check_host
    ),
    Setting[int | None](
        "port",
        "port",
        "Page port",
        Applies.SERVER_RESTART,
        lambda port: "" if port is None else str(port),
        _optional_port,
        check_main_port,
    ),
    Setting[int](
        "http_port",
        "http_port",
        "Set-up page port",
        Applies.SERVER_RESTART,
        str,
        int,
        check_port,
    ),
    Setting[TlsMode]("tls", "tls_mode", "HTTPS", Applies.SERVER_RESTART, str, TlsMode),
    Setting[Path | None](
        "cert",
        "cert_file",
        "Certificate",
        Applies.SERVER_RESTART,
        lambda path: "" if path is None else str(path),
        _optional_path,
    ),
    Setting[Path | None](
        "key",
        "key_file",
        "Private key",
        Applies.SERVER_RESTART,
        lambda path: "" if path is None else str(path),
        _optional_path,
    ),
    Setting[timedelta](
        "default_ttl",
        "default_ttl_seconds",
        "Default time to live",
        Applies.AT_ONCE,
        _seconds,
        _duration,
        check_ttl,
    ),
    Setting[Urgency](
        "default_urgency",
        "default_urgency",
        "Default urgency",
        Applies.AT_ONCE,
        str,
        Urgency,
    ),
    Setting[timedelta](
        "max_lateness",
        "max_lateness_seconds",
        "Maximum lateness",
        Applies.AT_ONCE,
        _seconds,
        _duration,
        check_max_lateness,
    ),
    Setting[int](
        "concurrency",
        "concurrency",
        "Pushes in flight",
        Applies.NEXT_START,
        str,
        int,
        check_concurrency,
    ),
    # Read only at start: there is nothing to apply to a running pushdesk.
    Setting[bool](
        "start_minimised",
        "start_minimised",
        "Start minimised",
        Applies.AT_ONCE,
        lambda flag: "1" if flag else "0",
        _flag,
    ),
    # Read by every hygiene pass and every page of the Devices tab. A row
    # edited by hand to 0 would remove every device: out of range reads as
    # damaged, so the default stands.
    Setting[int](
        "stale_after_days",
        "stale_after_days",
        "Warn devices unseen for (days)",
        Applies.AT_ONCE,
        str,
        read_limit(1, MAX_STALE_AFTER_DAYS),
        check_stale_after_days,
    ),
    Setting[int](
        "remove_after_warning_days",
        "remove_after_warning_days",
        "Remove warned devices after (days)",
        Applies.AT_ONCE,
        str,
        read_limit(1, MAX_REMOVE_AFTER_WARNING_DAYS),
        check_remove_after_warning_days,
    ),
    # Limits per client address: the server reads them again whenever
    # settings are saved, the subscription service on every new device.
    Setting[int](
        "max_body_kb",
        "max_body_kb",
        "Largest request body (KB)",
        Applies.AT_ONCE,
        str,
        read_limit(4, 1024),
        check_limit(4, 1024, "The largest request body in KB"),
    ),
    Setting[int](
        "subscriptions_per_address",
        "subscriptions_per_address",
        "Devices per network address",
        Applies.AT_ONCE,
        str,
        read_limit(1, 10_000),
        check_limit(1, 10_000, "The number of devices per network address"),
    ),
    Setting[int](
        "subscribes_per_minute",
        "subscribes_per_minute",
        "Subscribe requests per address per minute",
        Applies.AT_ONCE,
        str,
        read_limit(1, 10_000),
        check_limit(1, 10_000, "Subscribe requests per address per minute"),
    ),
    Setting[int](
        "tests_per_minute",
        "tests_per_minute",
        "Test notifications per address per minute",
        Applies.AT_ONCE,
        str,
        read_limit(1, 600),
        check_limit(1, 600, "Test notifications per address per minute"),
    ),
    Setting[int](
        "websockets_per_address",
        "websockets_per_address",
        "Open pages per network address",
        Applies.AT_ONCE,
        str,
        read_limit(1, 1000),
        check_limit(1, 1000, "Open pages per network address"),
    ),
    Setting[int](
        "max_label_length",
        "max_label_length",
        "Longest device name (characters)",
        Applies.AT_ONCE,
        str,
        read_limit(10, LABEL_LENGTH_CAP),
        check_limit(10, LABEL_LENGTH_CAP, "The longest device name"),
    ),
    # Reminders from the page: read on every request, so a change applies at
    # once (turning them off keeps those already set; the operator may cancel
    # them).
    Setting[bool](
        "visitor_reminders",
        "visitor_reminders",
        "Visitors may set reminders from the page",
        Applies.AT_ONCE,
        lambda flag: "1" if flag else "0",
        _flag,
    ),
    Setting[int](
        "visitor_pending_per_device",
        "visitor_pending_per_device",
        "Waiting reminders per device",
        Applies.AT_ONCE,
        str,
        read_limit(1, 1000),
        check_limit(1, 1000, "Waiting reminders per device"),
    ),
    Setting[int](
        "visitor_min_delay_minutes",
        "visitor_min_delay_minutes",
        "Shortest delay (minutes)",
        Applies.AT_ONCE,
        str,
        read_limit(1, 24 * 60),
        check_limit(1, 24 * 60, "The shortest delay in minutes"),
    ),
    Setting[int](
        "visitor_max_delay_days",
        "visitor_max_delay_days",
        "Longest delay (days)",
        Applies.AT_ONCE,
        str,
        read_limit(1, 365),
        check_limit(1, 365, "The longest delay in days"),
    ),
    Setting[int](
        "visitor_message_length",
        "visitor_message_length",
        "Longest message (characters)",
        Applies.AT_ONCE,
        str,
        read_limit(10, MAX_VISITOR_MESSAGE_LENGTH),
        check_limit(10, MAX_VISITOR_MESSAGE_LENGTH, "The longest visitor message"),
    ),
    Setting[int](
        "visitor_requests_per_minute",
        "visitor_requests_per_minute",
        "Reminder requests per address per minute",
        Applies.AT_ONCE,
        str,
        read_limit(1, 600),
        check_limit(1, 600, "Reminder requests per address per minute"),
    ),
)

BY_NAME: dict[str, Setting[Any]] = {setting.name: setting for setting in CATALOGUE}

# The catalogue and the dataclass must describe the same fields.
assert set(BY_NAME) == {field.name for field in fields(OperatorSettings)}


def from_texts(
    texts: Mapping[str, str], damaged: Callable[[str], None] = lambda _key: None
) -> OperatorSettings:
    """Settings from stored rows; a row that does not read back (edited by
    hand) keeps its default, and ``damaged`` hears its key."""
    values: dict[str, Any] = {}
    for setting in CATALOGUE:
        text = texts.get(setting.key)
        if text is None:
            continue
        try:
            values[setting.name] = setting.from_text(text)
        except ValueError:
            damaged(setting.key)
    return OperatorSettings(**values)


def to_texts(settings: OperatorSettings) -> dict[str, str]:
    return {s.key: s.to_text(getattr(settings, s.name)) for s in CATALOGUE}


def changed_names(old: OperatorSettings, new: OperatorSettings) -> tuple[str, ...]:
    return tuple(
        s.name for s in CATALOGUE if getattr(old, s.name) != getattr(new, s.name)
    )


def applying(names: Iterable[str], applies: Applies) -> list[Setting[Any]]:
    """Those of ``names`` that take effect at ``applies``."""
    return [BY_NAME[name] for name in names if BY_NAME[name].applies is applies]


# --- checking a whole set of settings ------------------------------------------


def normalised(settings: OperatorSettings) -> OperatorSettings:
    """The settings with each value in its stored form; InvalidInput (naming
    the field) for the first one that is not acceptable."""
    values: dict[str, Any] = {}
    for setting in CATALOGUE:
        try:
            values[setting.name] = setting.check(getattr(settings, setting.name))
        except InvalidInput as exc:
            raise InvalidInput(str(exc), setting.name) from None
    checked = replace(settings, **values)
    _check_together(checked)
    return checked


def problems(settings: OperatorSettings) -> dict[str, str]:
    """What is wrong, by field name; empty when the settings can be saved.

    Reads the certificate files when HTTPS uses the operator's own.
    """
    found: dict[str, str] = {}
    for setting in CATALOGUE:
        try:
            setting.check(getattr(settings, setting.name))
        except InvalidInput as exc:
            found[setting.name] = str(exc)
    if not found:
        try:
            _check_together(settings)
        except InvalidInput as exc:
            found[exc.field or "tls"] = str(exc)
    return found


def _check_together(settings: OperatorSettings) -> None:
    if settings.tls is TlsMode.PLAIN_HTTP:
        return
    if settings.http_port == settings.main_port:
        raise InvalidInput(
            f"The set-up page needs a port of its own; {settings.http_port} is "
            "the page's.",
            "http_port",
        )
    if settings.tls is TlsMode.OWN_CERTIFICATE:
        if settings.cert is None:
            raise InvalidInput("Choose your certificate file (PEM).", "cert")
        if settings.key is None:
            raise InvalidInput("Choose the certificate's private key file.", "key")
        check_certificate(settings.cert, settings.key)


def check_certificate(cert: Path, key: Path) -> None:
    """The pair loads as a TLS server certificate, or InvalidInput says why."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None)
        raise InvalidInput(
            f"Cannot use the certificate {cert} with the key {key}: {reason or exc}.",
            "cert",
        ) from None


# --- what a run uses -----------------------------------------------------------


def server_options(
    settings: OperatorSettings,
    given: ServerOverrides,
    allowed_push_origins: tuple[str, ...] = (),
) -> ServerOptions:
    """The saved settings, with what the command line gave winning."""
    http = given.http or (given.cert is None and settings.tls is TlsMode.PLAIN_HTTP)
    cert = key = None
    if given.cert is not None:
        cert, key = given.cert, given.key
    elif not http and settings.tls is TlsMode.OWN_CERTIFICATE:
        cert, key = settings.cert, settings.key

    options = ServerOptions(
        host=given.host or settings.host,
        port=given.port if given.port is not None else settings.port,
        http=http,
        helper_port=given.http_port or settings.http_port,
        cert=None if http else cert,
        key=None if http else key,
        allowed_push_origins=allowed_push_origins,
    )
    if not http and options.main_port == options.helper_port:
        raise StartupError(
            f"Port {options.main_port} cannot serve both the page and the set-up "
            "page: --port and --http-port must differ."
        )
    return options


def notice(names: Iterable[str]) -> str | None:
    """What to tell the operator after saving; None when all took effect."""
    names = list(names)
    lines = []
    if applying(names, Applies.SERVER_RESTART):
        lines.append(
            "The server restarts with the new address, ports and HTTPS setting "
            "now; pages open on phones reconnect by themselves."
        )
    if later := applying(names, Applies.NEXT_START):
        which = ", ".join(setting.label.lower() for setting in later)
        lines.append(f"Restart pushdesk to use the new setting for {which}.")
    return "\n\n".join(lines) or None
