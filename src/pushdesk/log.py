"""Logger names, one per area, and the one place that sets up output."""

import logging

STORE = logging.getLogger("pushdesk.store")
PUSH = logging.getLogger("pushdesk.push")
SCHEDULER = logging.getLogger("pushdesk.scheduler")
WEB = logging.getLogger("pushdesk.web")
UI = logging.getLogger("pushdesk.ui")
APP = logging.getLogger("pushdesk.app")

LEVELS = ("debug", "info", "warning", "error")


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

    # pywebpush prints keys and headers when verbose and aiohttp logs every
    # request at info; neither belongs in an operator's log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
