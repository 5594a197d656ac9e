"""Desktop notifications for the operator when sending goes wrong.

A reminder that failed for good, or only reached some devices, and a push
service refusing our credentials are worth interrupting for; everything else
the window shows quietly. Problems are gathered for a few seconds and said in
one message, and messages are spaced out, so a bad fan-out is one interruption.
"""

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer

from pushdesk.domain import ReminderStatus
from pushdesk.errors import NotFound
from pushdesk.events import Alert, Event, ReminderSent
from pushdesk.services import Services

# Problems arriving within this long of the first become one message.
GATHER_MS = 3_000
# After a message, the next waits at least this long, gathering meanwhile.
QUIET_MS = 30_000

# A tray balloon has room for a few lines; the window has the rest.
MAX_LINES = 4
MAX_NAME = 40


@dataclass(frozen=True)
class Problem:
    title: str  # used when it is the only problem in its message
    line: str


def summary(problems: list[Problem]) -> tuple[str, str]:
    """The title and text of one message saying all of ``problems``."""
    if len(problems) == 1:
        return problems[0].title, problems[0].line

    lines = [problem.line for problem in problems[:MAX_LINES]]
    hidden = len(problems) - len(lines)
    if hidden:
        lines.append(f"…and {hidden} more; see the pushdesk window.")
    return f"{len(problems)} problems with sending", "\n".join(lines)


class Notifier(QObject):
    """Turns hub events into rate-limited desktop notifications.

    Connect ``on_event`` to DataWatcher's ``happened``; ``show_message`` is
    the tray's (it does nothing where there is no tray).
    """

    def __init__(
        self,
        show_message: Callable[[str, str], None],
        services: Services,
        parent: QObject | None = None,
        *,
        gather_ms: int = GATHER_MS,
        quiet_ms: int = QUIET_MS,
    ) -> None:
        super().__init__(parent)
        self._show_message = show_message
        self._services = services
        self._pending: list[Problem] = []

        self._gather = QTimer(self, singleShot=True, interval=gather_ms)
        self._gather.timeout.connect(self._say)
        self._quiet = QTimer(self, singleShot=True, interval=quiet_ms)
        self._quiet.timeout.connect(self._end_of_quiet)

    def on_event(self, event: Event) -> None:
        problem = self._problem(event)
        if problem is None:
            return

        self._pending.append(problem)
        if not self._gather.isActive() and not self._quiet.isActive():
            self._gather.start()

    def _problem(self, event: Event) -> Problem | None:
        if isinstance(event, Alert):
            return Problem("pushdesk needs attention", event.message)
        if isinstance(event, ReminderSent):
            return self._sending_problem(event)
        return None

    def _sending_problem(self, event: ReminderSent) -> Problem | None:
        if not self._fell_short(event):
            return None

        name = _short(event.title or event.body)
        if event.delivered == 0:
            return Problem(
                "A reminder was not delivered",
                f"“{name}” reached none of its {event.total} devices.",
            )
        return Problem(
            "A reminder was only partly delivered",
            f"“{name}” reached {event.delivered} of {event.total} devices.",
        )

    def _fell_short(self, event: ReminderSent) -> bool:
        try:
            reminder = self._services.reminders.get(event.id)
        except NotFound:
            return event.failed > 0  # deleted since
        if reminder.repeat is None:
            return reminder.status in (
                ReminderStatus.FAILED,
                ReminderStatus.PARTLY_SENT,
            )
        # A repeating reminder is scheduled again at once, with no status per
        # occurrence: the event's count tells.
        return event.failed > 0

    def _say(self) -> None:
        if not self._pending:
            return

        problems, self._pending = self._pending, []
        self._show_message(*summary(problems))
        self._quiet.start()

    def _end_of_quiet(self) -> None:
        # Whatever came up while quiet goes out now, as one message.
        self._say()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1] + "…"
