"""JSON API handlers: validate, call a service, answer. No rules live here."""

import json
import sqlite3
from dataclasses import replace
from typing import Any

from aiohttp import web

from pushdesk import __version__
from pushdesk.domain import Target
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.log import WEB
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.server.limits import RateLimit
from pushdesk.services import Services
from pushdesk.store.receipts import KINDS
from pushdesk.validation import (
    parse_device_proof,
    parse_replaces,
    parse_subscription,
)

SERVICES = web.AppKey("services", Services)
VAPID_PUBLIC_KEY = web.AppKey("vapid_public_key", str)
ALLOWED_PUSH_ORIGINS = web.AppKey[tuple[str, ...]]("allowed_push_origins")
RECEIPTS = web.AppKey("receipts", ReceiptSigner)
TEST_LIMIT = web.AppKey("test_limit", RateLimit)


def json_error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


async def read_json(request: web.Request) -> Any:
    """The body as JSON; anything else is the client's mistake, answered 4xx.

    Requiring the JSON media type also keeps other web sites out: a
    cross-origin fetch with it needs a CORS preflight, which pushdesk never
    grants.
    """
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="The body must be application/json.")
    try:
        raw = await request.read()
        return json.loads(raw.decode(request.charset or "utf-8"))
    except (ValueError, UnicodeError, LookupError, RecursionError):
        # ValueError covers bad JSON and numbers too long to convert;
        # LookupError an unknown charset; RecursionError absurd nesting.
        raise InvalidInput("The body is not valid JSON.") from None


async def vapid_public_key(request: web.Request) -> web.Response:
    return web.json_response({"public_key": request.app[VAPID_PUBLIC_KEY]})


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "subscriptions": services.subscriptions.count(),
        }
    )


async def subscribe(request: web.Request) -> web.Response:
    body = await read_json(request)
    origins: tuple[str, ...] = request.app[ALLOWED_PUSH_ORIGINS]
    subscription = parse_subscription(body, origins)
    replaces = parse_replaces(body, origins)

    user_agent = request.headers.get("User-Agent", "")[:300] or None
    stored, created = request.app[SERVICES].subscriptions.register(
        replace(subscription, user_agent=user_agent, client_address=request.remote),
        replaces,
    )
    return web.json_response(
        {"id": stored.id, "created": created}, status=201 if created else 200
    )


TEST_MESSAGE = "Test notification: pushdesk can reach this device."


async def test_notification(request: web.Request) -> web.Response:
    """The page's "Send me a test notification", for its own device only."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    origins: tuple[str, ...] = request.app[ALLOWED_PUSH_ORIGINS]
    proof = parse_device_proof(body, origins)

    wait = request.app[TEST_LIMIT].retry_after(request.remote or "?")
    if wait is not None:
        error = json_error(429, "Please wait a minute before asking again.")
        error.headers["Retry-After"] = str(wait)
        return error

    services = request.app[SERVICES]
    device = services.subscriptions.owned(proof)
    if device is None:
        return json_error(403, "This device is not subscribed here.", "auth")
    reminder = services.reminders.schedule(
        "pushdesk",
        TEST_MESSAGE,
        None,
        services.now(),
        target=Target(subscription_ids=(device.id,)),
        ttl=600,
    )
    return web.json_response({"id": reminder.id}, status=202)


async def receipt(request: web.Request) -> web.Response:
    """A service worker reports a reminder shown ("displayed") or opened."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    reminder_id = _positive_int(body, "id")
    device = _positive_int(body, "device")
    token = body.get("receipt")
    kind = body.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", "kind")
    if not isinstance(token, str) or not request.app[RECEIPTS].check(
        reminder_id, device, token
    ):
        return json_error(403, "That receipt is not valid.", "receipt")

    request.app[SERVICES].reminders.record_receipt(reminder_id, device, kind)
    return web.Response(status=204)


def _positive_int(body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise InvalidInput(f"{field} must be a positive whole number.", field)
    return value


async def unsubscribe(request: web.Request) -> web.Response:
    """A device turns itself off; its auth secret proves it is that device."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    origins: tuple[str, ...] = request.app[ALLOWED_PUSH_ORIGINS]
    removed = request.app[SERVICES].subscriptions.remove(
        parse_device_proof(body, origins)
    )
    return web.json_response({"removed": removed.id})


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every API failure is a JSON body with an ``error`` sentence."""
    try:
        response: web.StreamResponse = await handler(request)
    except InvalidInput as exc:
        return json_error(400, str(exc), exc.field)
    except NotFound as exc:
        return json_error(404, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        error = json_error(exc.status, exc.reason)
        if "Allow" in exc.headers:
            error.headers["Allow"] = exc.headers["Allow"]
        return error
    except sqlite3.OperationalError as exc:
        # The CLI or another pushdesk holds the database for longer than the
        # busy timeout; the client may simply try again.
        WEB.warning("database busy during %s %s: %s", request.method, request.path, exc)
        return json_error(503, "pushdesk is busy; try again in a moment.")
    except ConnectionError:
        WEB.debug("client went away during %s %s", request.method, request.path)
        raise
    except Exception:
        # A bug, not the client's fault: log it loudly, answer without details.
        WEB.exception("unhandled error in %s %s", request.method, request.path)
        return json_error(500, "Internal error; the pushdesk log has the details.")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/vapid-public-key", vapid_public_key)
    app.router.add_get("/api/health", health)
    app.router.add_post("/api/subscriptions", subscribe)
    app.router.add_delete("/api/subscriptions", unsubscribe)
    app.router.add_post("/api/receipts", receipt)
    app.router.add_post("/api/test-notification", test_notification)
