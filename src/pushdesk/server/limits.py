"""What one client address may ask of the server, and the middleware that
holds every request to it.

The limits are the operator's settings. They are read again whenever settings
are saved, so a change applies to the running server without a restart.
"""

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from aiohttp.typedefs import Handler

from pushdesk.clock import Clock
from pushdesk.events import Event, SettingsChanged
from pushdesk.services import Services
from pushdesk.settings import OperatorSettings

MINUTE = timedelta(minutes=1)

# The routes counted per client address, by method and path.
SUBSCRIBE = ("POST", "/api/subscriptions")
TEST_NOTIFICATION = ("POST", "/api/test-notification")
# Every request under this path, whatever its method, counts towards one limit.
SELF_REMINDERS = "/api/self-reminders"


def refusal(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The API's error shape, for a request refused before its handler."""
    return web.json_response(
        {"error": message, "field": None}, status=status, headers=headers
    )


class RateLimit:
    """At most ``count()`` requests per ``window`` for each client address.

    A sliding log: exact over any window, at one timestamp per request let
    through.
    """

    def __init__(
        self, count: Callable[[], int], window: timedelta, clock: Clock
    ) -> None:
        self._count = count
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[datetime]] = {}
        self._swept_at: datetime | None = None

    def retry_after(self, client: str) -> int | None:
        """None to allow (and count) this request; else seconds to wait."""
        now = self._clock()
        self._sweep(now)
        times = self._seen.setdefault(client, deque())

        # The wall clock went back: requests "from the future" are forgiven
        # rather than locking the client out for the size of the jump.
        while times and times[-1] > now:
            times.pop()
        while times and now - times[0] >= self._window:
            times.popleft()

        # After the limit was lowered the log may hold more than it allows;
        # there is room again once all but count - 1 of them have expired.
        count = self._count()
        if len(times) >= count:
            wait = self._window - (now - times[len(times) - count])
            return max(1, math.ceil(wait.total_seconds()))
        times.append(now)
        return None

    def _sweep(self, now: datetime) -> None:
        """Forget clients quiet for a whole window (at most once a window), so
        the table holds only recent clients."""
        if self._swept_at is not None and now - self._swept_at < self._window:
            return
        self._swept_at = now
        self._seen = {
            client: times
            for client, times in self._seen.items()
            if times and now - times[-1] < self._window
        }


@dataclass(frozen=True)
class _Rated:
    limit: RateLimit
    message: str  # with {wait}, the seconds in Retry-After


class ClientLimits:
    """The limits in force, kept current from the event hub so a request
    never reads the database for them."""

    def __init__(self, services: Services) -> None:
        self._settings = services.settings
        self.current: OperatorSettings = services.settings.current()
        self._rated = {
            SUBSCRIBE: _Rated(
                RateLimit(
                    lambda: self.current.subscribes_per_minute, MINUTE, services.now
                ),
                "Too many subscribe requests from this address; "
                "try again in {wait} seconds.",
            ),
            TEST_NOTIFICATION: _Rated(
                RateLimit(lambda: self.current.tests_per_minute, MINUTE, services.now),
                "Test notifications were asked for too often; "
                "try again in {wait} seconds.",
            ),
        }
        self._self_reminders = _Rated(
            RateLimit(
                lambda: self.current.visitor_requests_per_minute, MINUTE, services.now
            ),
            "Too many reminder requests from this address; "
            "try again in {wait} seconds.",
        )
        # A page saying which device it is looks its secret up, as a
        # subscribe does: the same number per minute is allowed.
        self._live_identify = RateLimit(
            lambda: self.current.subscribes_per_minute, MINUTE, services.now
        )
        self._unsubscribe: Callable[[], None] | None = services.hub.subscribe(
            self._reread
        )

    @property
    def body_bytes(self) -> int:
        return self.current.max_body_kb * 1024

    @property
    def websockets_per_address(self) -> int:
        return self.current.websockets_per_address

    def live_identify_wait(self, client: str) -> int | None:
        """None to let this address's page say which device it is (counted);
        else the seconds it must wait."""
        return self._live_identify.retry_after(client)

    def refused(self, request: web.Request) -> web.Response | None:
        """A 429 with Retry-After if this address asked this route too often."""
        rated = self._rated.get((request.method, request.path))
        if rated is None and _under(request.path, SELF_REMINDERS):
            rated = self._self_reminders
        if rated is None:
            return None
        wait = rated.limit.retry_after(request.remote or "?")
        if wait is None:
            return None
        return refusal(429, rated.message.format(wait=wait), {"Retry-After": str(wait)})

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _reread(self, event: Event) -> None:
        if isinstance(event, SettingsChanged):
            self.current = self._settings.current()


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


LIMITS = web.AppKey("client_limits", ClientLimits)


@web.middleware
async def hold_to_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Rate and body-size limits for every route. (The limit of devices per
    address is the subscription service's; json_errors answers it.)"""
    limits = request.app[LIMITS]
    if (too_often := limits.refused(request)) is not None:
        return too_often

    # A body announced as too large is refused before a byte of it is read.
    most = limits.body_bytes
    if request.content_length is not None and request.content_length > most:
        return _too_large(most)
    if request.body_exists:
        # The application's own maximum was fixed when it was made; this one
        # follows the settings.
        request = request.clone(client_max_size=most)

    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        # A chunked body, which announces no length, ran past the limit.
        return _too_large(most)


def _too_large(most: int) -> web.Response:
    response = refusal(413, f"The request body is larger than {most // 1024} KB.")
    # The rest of the body is not wanted: no further requests on this connection.
    response.force_close()
    return response
