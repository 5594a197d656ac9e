"""Logger names, one per area, and the one place that sets up output."""

import logging
from pathlib import Path

STORE = logging.getLogger("pushdesk.store")
PUSH = logging.getLogger("pushdesk.push")
SCHEDULER = logging.getLogger("pushdesk.scheduler")
WEB = logging.getLogger("pushdesk.web")
UI = logging.getLogger("pushdesk.ui")
APP = logging.getLogger("pushdesk.app")

LEVELS = ("debug", "info", "warning", "error")

# Push libraries that log claims, headers and salts below warning, some of it
# straight to the root logger (pywebpush calls logging.info).
PUSH_LIBRARIES = ("pywebpush", "py_vapid", "http_ece")


def configure(level: str = "info") -> None:
    """Send pushdesk's log lines to stderr, one event per line."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("pushdesk").setLevel(level.upper())

    # aiohttp logs every request at info: not an operator's business.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    keep_push_libraries_quiet()


class PushLibraryFilter(logging.Filter):
    """Drops the push libraries' records below warning, whatever logger they
    were sent to: they may hold key material."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        package = Path(record.pathname).parent.name
        return (
            package not in PUSH_LIBRARIES
            and record.name.split(".")[0] not in PUSH_LIBRARIES
        )


def keep_push_libraries_quiet() -> None:
    """Keep the push libraries' chatter (keys, VAPID headers) out of every log,
    even one a caller set to debug for the root logger."""
    root = logging.getLogger()
    if not any(isinstance(f, PushLibraryFilter) for f in root.filters):
        root.addFilter(PushLibraryFilter())
    for name in PUSH_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
