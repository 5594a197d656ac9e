"""JSON API handlers: validate, call a service, answer. No rules live here."""

import json
from typing import Any, NoReturn

from aiohttp import HttpVersion11, hdrs, web

from pushdesk import __version__
from pushdesk.domain import Reminder
from pushdesk.errors import (
    DeviceLimitReached,
    Forbidden,
    InvalidInput,
    NotFound,
    NotOwner,
    StorageError,
)
from pushdesk.log import WEB
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.server.schemas import (
    DeviceTestBody,
    ReceiptBody,
    SelfReminderBody,
    SelfReminderCancelBody,
    SelfReminderListBody,
    SubscribeBody,
    UnsubscribeBody,
)
from pushdesk.services import Services
from pushdesk.store.db import to_db_time
from pushdesk.validation import check

SERVICES = web.AppKey("services", Services)
VAPID_PUBLIC_KEY = web.AppKey("vapid_public_key", str)
ALLOWED_PUSH_ORIGINS = web.AppKey[tuple[str, ...]]("allowed_push_origins")
RECEIPTS = web.AppKey("receipts", ReceiptSigner)


def json_error(status: int, message: str, field: str | None = None) -> web.Response:
    """The one shape of every API error; ``field`` is null when no field is to
    blame."""
    return web.json_response({"error": message, "field": field}, status=status)


async def read_json(request: web.Request) -> Any:
    """The body as JSON; anything else is the client's mistake, answered 4xx.

    Requiring the JSON media type also keeps other web sites out: a
    cross-origin fetch with it needs a CORS preflight, which pushdesk never
    grants.
    """
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="The body must be application/json.")
    # Browsers never compress what they post; a compressed body could unpack
    # to far more than the size limit, so none is taken (the server does not
    # decompress, see create_app).
    encoding = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
    if encoding != "identity":
        raise web.HTTPUnsupportedMediaType(reason="The body must not be compressed.")
    try:
        raw = await request.read()
    except web.RequestPayloadError:
        # Cut short before its announced length.
        raise InvalidInput("The body could not be read as sent.") from None
    try:
        text = raw.decode(request.charset or "utf-8")
    except (UnicodeError, LookupError):
        # LookupError: an unknown charset.
        raise InvalidInput("The body is not valid JSON.") from None
    return parse_json(text, "The body")


def parse_json(text: str, what: str) -> Any:
    """``text`` as JSON, or InvalidInput saying that ``what`` is not JSON."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON and numbers too long to convert;
        # RecursionError absurd nesting.
        raise InvalidInput(f"{what} is not valid JSON.") from None


def _not_json(constant: str) -> NoReturn:
    # Python reads NaN and Infinity; JSON has no such numbers.
    raise ValueError(f"{constant} is not JSON")


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
    origins = request.app[ALLOWED_PUSH_ORIGINS]
    body = check(SubscribeBody, await read_json(request), origins)

    user_agent = request.headers.get("User-Agent", "")[:300] or None
    stored, created = request.app[SERVICES].subscriptions.register(
        body.subscription(user_agent, request.remote), body.replaced()
    )
    return web.json_response(
        {"id": stored.id, "created": created}, status=201 if created else 200
    )


async def test_notification(request: web.Request) -> web.Response:
    """The page's "Send me a test notification", for its own device only.

    How often an address may ask is held by the limits middleware.
    """
    origins = request.app[ALLOWED_PUSH_ORIGINS]
    proof = check(DeviceTestBody, await read_json(request), origins).replacement()

    services = request.app[SERVICES]
    device = services.subscriptions.owned(proof)
    if device is None:
        return json_error(403, "This device is not subscribed here.", "auth")
    reminder = services.subscriptions.send_test(device.id)
    return web.json_response({"id": reminder.id}, status=202)


async def receipt(request: web.Request) -> web.Response:
    """A service worker reports a reminder shown ("displayed") or opened."""
    body = check(ReceiptBody, await read_json(request))
    if not request.app[RECEIPTS].check(body.id, body.device, body.receipt):
        return json_error(403, "That receipt is not valid.", "receipt")

    request.app[SERVICES].reminders.record_receipt(body.id, body.device, body.kind)
    return web.Response(status=204)


async def unsubscribe(request: web.Request) -> web.Response:
    """A device turns itself off; its auth secret proves it is that device."""
    origins = request.app[ALLOWED_PUSH_ORIGINS]
    proof = check(UnsubscribeBody, await read_json(request), origins).replacement()
    removed = request.app[SERVICES].subscriptions.remove(proof)
    return web.json_response({"removed": removed.id})


def _self_reminder(reminder: Reminder) -> dict[str, Any]:
    """A visitor's reminder as the page shows it: text only, never HTML."""
    return {
        "id": reminder.id,
        "message": reminder.message,
        "due_at": to_db_time(reminder.due_at),
        "status": reminder.status.value,
    }


async def create_self_reminder(request: web.Request) -> web.Response:
    """A visitor sets a reminder for their own device (and, proven, others)."""
    origins = request.app[ALLOWED_PUSH_ORIGINS]
    body = check(SelfReminderBody, await read_json(request), origins)

    reminder = request.app[SERVICES].self_reminders.create(
        body.replacement(),
        body.message,
        in_minutes=body.in_minutes,
        at=body.due(),
        also=body.others(),
    )
    return web.json_response({"reminder": _self_reminder(reminder)}, status=201)


async def list_self_reminders(request: web.Request) -> web.Response:
    """A device's own reminders still to go out, and the limits the page keeps."""
    origins = request.app[ALLOWED_PUSH_ORIGINS]
    proof = check(SelfReminderListBody, await read_json(request), origins)

    pending, limits = request.app[SERVICES].self_reminders.own(proof.replacement())
    return web.json_response(
        {
            "reminders": [_self_reminder(reminder) for reminder in pending],
            "limits": {
                "max_message_length": limits.max_message_length,
                "min_delay_minutes": limits.min_delay_minutes,
                "max_delay_minutes": limits.max_delay_minutes,
                "max_pending": limits.max_pending,
            },
        }
    )


async def cancel_self_reminder(request: web.Request) -> web.Response:
    origins = request.app[ALLOWED_PUSH_ORIGINS]
    reminder_id = _row_id(request.match_info["id"])
    proof = check(SelfReminderCancelBody, await read_json(request), origins)

    request.app[SERVICES].self_reminders.cancel(proof.replacement(), reminder_id)
    return web.json_response({"cancelled": reminder_id})


def _row_id(text: str) -> int:
    """A reminder id from the path: digits, as the list gave them."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise InvalidInput("The reminder id must be a whole number.", "id")
    return int(text)


# aiohttp's own refusals carry the bare status phrase; say it in a sentence.
_SENTENCES = {
    "Not Found": "There is nothing at this address.",
    "Method Not Allowed": "This address does not take that method.",
    "Request Entity Too Large": "The request body is too large.",
}


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every API failure is a JSON body with an ``error`` sentence."""
    try:
        response: web.StreamResponse = await handler(request)
    except InvalidInput as exc:
        return json_error(400, str(exc), exc.field)
    except NotFound as exc:
        return json_error(404, str(exc))
    except DeviceLimitReached as exc:
        return json_error(403, str(exc))
    except NotOwner as exc:
        return json_error(403, str(exc), "keys.auth")
    except Forbidden as exc:
        return json_error(403, str(exc), exc.field)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        error = json_error(exc.status, _SENTENCES.get(exc.reason, exc.reason))
        if "Allow" in exc.headers:
            error.headers["Allow"] = exc.headers["Allow"]
        return error
    except StorageError as exc:
        # The database is busy (the CLI holds it), read-only or full: nothing
        # was written, and the client may try again later. Visitors are not
        # told where the operator keeps their files.
        WEB.warning("%s %s: %s", request.method, request.path, exc)
        return json_error(503, exc.public_message)
    except ConnectionError:
        WEB.debug("client went away during %s %s", request.method, request.path)
        raise
    except Exception:
        # A bug, not the client's fault: log it loudly, answer without details.
        WEB.exception("unhandled error in %s %s", request.method, request.path)
        return json_error(500, "Internal error; the pushdesk log has the details.")
    return response


async def expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue`` is the only expectation HTTP defines.

    aiohttp answers any other in plain text before the middleware runs, so
    the API's routes answer it here, in JSON.
    """
    if request.headers.get(hdrs.EXPECT, "").lower() != "100-continue":
        return json_error(417, "The only Expect header pushdesk meets is 100-continue.")
    if request.version == HttpVersion11:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # The interim answer is not part of the response's own size.
        request.writer.output_size = 0
    return None


def add_routes(app: web.Application) -> None:
    # FIXME:web an odd Expect on an unknown path or method still gets
    # aiohttp's plain-text 417: its system routes take no expect handler.
    json_expect: dict[str, Any] = {"expect_handler": expect_continue}
    app.router.add_get("/api/vapid-public-key", vapid_public_key, **json_expect)
    app.router.add_get("/api/health", health, **json_expect)
    app.router.add_post("/api/subscriptions", subscribe, **json_expect)
    app.router.add_delete("/api/subscriptions", unsubscribe, **json_expect)
    app.router.add_post("/api/receipts", receipt, **json_expect)
    app.router.add_post("/api/test-notification", test_notification, **json_expect)
    app.router.add_post("/api/self-reminders", create_self_reminder, **json_expect)
    app.router.add_post("/api/self-reminders/list", list_self_reminders, **json_expect)
    app.router.add_delete(
        "/api/self-reminders/{id}", cancel_self_reminder, **json_expect
    )
