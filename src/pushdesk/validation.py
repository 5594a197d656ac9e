"""Checks on what clients send, shared by the API and the command line."""

import base64
import binascii
import ipaddress
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from typing import Annotated, Any, TypeVar
from urllib.parse import SplitResult, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)

from pushdesk.domain import SubscriptionInput
from pushdesk.errors import InvalidInput
from pushdesk.push.push_services import is_push_service_host

# No device name is longer, whatever the settings say; the operator's own
# limit (settings.max_label_length, at most this) is held by the
# subscription service.
LABEL_LENGTH_CAP = 1000
MAX_ENDPOINT_LENGTH = 2048
MAX_URL_LENGTH = 2048


def is_text(value: str, *, allow: str = "\n\t") -> bool:
    """Printable Unicode that encodes as UTF-8: no control characters
    (but those in ``allow``) and no lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(
        unicodedata.category(char) == "Cc" and char not in allow for char in value
    )


def _split(url: str, field: str | None, what: str) -> SplitResult:
    """urlsplit, with the port checked; any malformed URL is InvalidInput."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises for a port that is not a number in range
    except ValueError:
        raise InvalidInput(f"{what} is not a valid URL.", field) from None
    return parts


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalise_origin(origin: str) -> str:
    """``--allow-push-origin`` values: scheme://host[:port], nothing more."""
    parts = _split(origin.strip(), None, repr(origin))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{origin!r} is not an origin; write it like http://127.0.0.1:9000."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"{origin!r} has a path; give only scheme, host and port.")
    return f"{parts.scheme}://{parts.netloc}".lower()


# --- Push subscriptions -----------------------------------------------------
#
# A rule below takes a value of the right type and returns it normalised, or
# raises ValueError whose message is what is wrong, worded to follow the
# field's name ("must be an https URL."). Pydantic finds the field; ``check``
# turns the first problem into one sentence.

P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04, x, y
AUTH_BYTES = 16
MAX_KEY_LENGTH = 200  # characters of base64; keys are 22 and 87

# Bidirectional overrides and isolates make a name display as other text.
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
_ZERO_WIDTH_JOINER = "\u200d"  # glues emoji into one, as in 👩‍💻
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs")  # control, format, lone surrogate


def push_endpoint(value: str, allowed_origins: Collection[str]) -> str:
    """An https URL of a known browser push service, or of an allowed origin."""
    if len(value) > MAX_ENDPOINT_LENGTH:
        raise ValueError(f"is longer than {MAX_ENDPOINT_LENGTH} characters.")
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ValueError("may hold only printable ASCII characters, no spaces.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises for a port that is not a number in range
    except ValueError:
        raise ValueError("is not a valid URL.") from None
    if not parts.hostname:
        raise ValueError("is not a URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise ValueError("may not carry a user name or password.")
    if "#" in value:
        raise ValueError("may not have a fragment (#…).")

    if origin_of(value) in allowed_origins:
        return value
    if parts.scheme != "https":
        raise ValueError("must be an https URL.")
    if not is_push_service_host(parts.hostname):
        raise ValueError(
            "must be the address of a browser push service (Google, Mozilla, "
            f"Apple or Microsoft); {parts.hostname} is not one."
        )
    if parts.port not in (None, 443):
        raise ValueError("must use the push service's standard port.")
    if parts.path in ("", "/"):
        raise ValueError("has no subscription path.")
    return value


def p256dh_key(value: str) -> str:
    """The browser's public key: a P-256 point, stored as unpadded base64url."""
    raw = _decode_key(value)
    if len(raw) == AUTH_BYTES:
        raise ValueError("holds 16 bytes, the size of auth: are the keys swapped?")
    if len(raw) != P256DH_BYTES:
        raise ValueError(f"must be {P256DH_BYTES} bytes, not {len(raw)}.")
    try:
        if raw[0] != 0x04:
            raise ValueError("compressed or hybrid")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise ValueError("is not an uncompressed point on the P-256 curve.") from None
    return _encode_key(raw)


def auth_secret(value: str) -> str:
    """The browser's auth secret: 16 bytes, stored as unpadded base64url."""
    raw = _decode_key(value)
    if len(raw) == P256DH_BYTES:
        raise ValueError("holds 65 bytes, the size of p256dh: are the keys swapped?")
    if len(raw) != AUTH_BYTES:
        raise ValueError(f"must be {AUTH_BYTES} bytes, not {len(raw)}.")
    return _encode_key(raw)


def _decode_key(value: str) -> bytes:
    """Base64 in either alphabet, padded or not."""
    if len(value) > MAX_KEY_LENGTH:
        raise ValueError("is too long to be a key.")
    text = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64.") from None


def _encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def device_label(value: str) -> str:
    """A device's name: printable, spaces collapsed, at most LABEL_LENGTH_CAP.

    "" is allowed (it clears the name).
    """
    if any(char in _BIDI_CONTROLS for char in value):
        raise ValueError(
            "may not contain characters that reverse the text's direction."
        )
    if any(_hidden(char) for char in value):
        raise ValueError("may hold only printable text.")
    label = " ".join(value.split())
    if len(label) > LABEL_LENGTH_CAP:
        raise ValueError(f"is longer than {LABEL_LENGTH_CAP} characters.")
    return label


def visitor_text_problem(value: str) -> str | None:
    """Why a visitor's message cannot be shown as they meant it, or None.

    Direction overrides could make a message read as something else; one of
    only invisible characters would show as an empty notification.
    """
    if any(char in _BIDI_CONTROLS for char in value):
        return "The message may not contain characters that reverse its direction."
    if all(char.isspace() or _hidden(char) for char in value):
        return "The message is empty."
    return None


def _hidden(char: str) -> bool:
    category = unicodedata.category(char)
    return category in _HIDDEN_CATEGORIES and char != _ZERO_WIDTH_JOINER


_ORIGINS = "allowed_origins"  # key of the validation context


def _endpoint_here(value: str, info: ValidationInfo) -> str:
    context = info.context or {}
    return push_endpoint(value, context.get(_ORIGINS, frozenset()))


PushEndpoint = Annotated[str, AfterValidator(_endpoint_here)]
P256dhKey = Annotated[str, AfterValidator(p256dh_key)]
AuthSecret = Annotated[str, AfterValidator(auth_secret)]
DeviceLabel = Annotated[str, AfterValidator(device_label)]


class Schema(BaseModel):
    """A body as the client must send it: JSON types exactly, no coercion.

    Unknown fields are refused unless a schema says otherwise; inputs never
    appear in errors, which may be logged (keys are secrets).
    """

    model_config = ConfigDict(
        strict=True,
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )


class PushKeys(Schema):
    # Browsers define this object; whatever they add later is not stored.
    model_config = ConfigDict(extra="ignore")

    p256dh: P256dhKey
    auth: AuthSecret


class SubscriptionDocument(Schema):
    """What ``PushSubscription.toJSON()`` gives, plus an optional ``label``.

    A label that is absent or null keeps the stored name; "" clears it.
    """

    # Browsers define this object too; fields they add are not stored.
    model_config = ConfigDict(extra="ignore")

    endpoint: PushEndpoint
    expiration_time: float | None = Field(default=None, alias="expirationTime", ge=0)
    keys: PushKeys
    label: DeviceLabel | None = None

    def to_input(self) -> SubscriptionInput:
        return SubscriptionInput(
            endpoint=self.endpoint,
            p256dh=self.keys.p256dh,
            auth=self.keys.auth,
            label=self.label,
        )


S = TypeVar("S", bound=Schema)


def check(schema: type[S], document: Any, allowed_origins: Iterable[str] = ()) -> S:
    """``document`` read as ``schema``, or InvalidInput naming its first problem.

    ``allowed_origins`` are the push origins the operator allowed by hand.
    """
    try:
        return schema.model_validate(
            document, strict=True, context={_ORIGINS: frozenset(allowed_origins)}
        )
    except ValidationError as exc:
        raise _explain(exc) from None


def parse_subscription(
    document: Any, allowed_origins: Iterable[str] = ()
) -> SubscriptionInput:
    """A subscription as a browser or an import file gives it, checked."""
    return check(SubscriptionDocument, document, allowed_origins).to_input()


# What pydantic's error types mean, worded to follow the field's name.
_PREDICATES = {
    "missing": "is missing.",
    "string_type": "must be a string.",
    "int_type": "must be a whole number.",
    "float_type": "must be a number.",
    "finite_number": "must be a finite number.",
    "model_type": "must be a JSON object.",
    "model_attributes_type": "must be a JSON object.",
    "extra_forbidden": "is not a field pushdesk knows here.",
    "greater_than": "must be greater than {gt}.",
    "greater_than_equal": "must be {ge} or more.",
    "less_than": "must be less than {lt}.",
    "less_than_equal": "must be {le} or less.",
    "string_too_long": "is longer than {max_length} characters.",
}


def _explain(error: ValidationError) -> InvalidInput:
    """One sentence for the first problem, and the field it is in."""
    first = error.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    context = first.get("ctx", {})
    if first["type"] == "value_error":
        predicate = str(context["error"])
    else:
        predicate = _PREDICATES.get(first["type"], "is not valid.").format(**context)

    if not field:
        # The document itself: not an object at all.
        return InvalidInput("The body must be a JSON object.")
    return InvalidInput(f"{field} {predicate}", field)


MAX_GROUP_LENGTH = 50
MAX_GROUPS = 20


def parse_groups(body: Mapping[str, Any]) -> list[str]:
    """Group names: printable, trimmed, at most 50 characters, no duplicates."""
    groups = body.get("groups", [])
    if groups is None:
        return []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InvalidInput("groups must be a list of names.", "groups")
    names: dict[str, str] = {}
    for raw in groups:
        name = " ".join(raw.split())
        if "," in name:
            # Commas separate groups everywhere a list of them is written.
            raise InvalidInput(
                f"{raw!r}: a group name cannot contain a comma.", "groups"
            )
        if (
            not name
            or not is_text(name, allow="")
            or any(char in _BIDI_CONTROLS or _hidden(char) for char in name)
        ):
            raise InvalidInput(f"{raw!r} is not a usable group name.", "groups")
        if len(name) > MAX_GROUP_LENGTH:
            raise InvalidInput(
                f"Group names are at most {MAX_GROUP_LENGTH} characters.", "groups"
            )
        names.setdefault(name.lower(), name)
    if len(names) > MAX_GROUPS:
        raise InvalidInput(f"A device is in at most {MAX_GROUPS} groups.", "groups")
    return list(names.values())


def parse_click_url(url: str | None) -> str | None:
    """A reminder's click URL: empty means none; otherwise http(s) only."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    if not is_text(url, allow="") or " " in url:
        raise InvalidInput(
            "The URL may not contain spaces or control characters.", "url"
        )
    parts = _split(url, "url", "The URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("The URL must start with http:// or https://.", "url")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    return url


def check_vapid_subject(subject: str) -> str:
    """The contact push services use to reach the operator (RFC 8292 ``sub``)."""
    subject = subject.strip()
    scheme, colon, rest = subject.partition(":")
    if colon and scheme.lower() in ("mailto", "https"):
        # URL schemes are case-insensitive; push services expect lower case.
        subject = f"{scheme.lower()}:{rest}"
    if subject.startswith("mailto:"):
        address = subject.removeprefix("mailto:")
        local, _, domain = address.rpartition("@")
        if not local or not domain or any(char.isspace() for char in address):
            raise InvalidInput(
                f"{subject!r} is not a mail address; write mailto:you@example.org."
            )
        _check_contact_domain(domain.strip("[]"), mail=True)
    elif subject.startswith("https://"):
        domain = _split(subject, None, repr(subject)).hostname or ""
        if not domain:
            raise InvalidInput(f"{subject!r} is not an https URL with a host.")
        _check_contact_domain(domain, mail=False)
    else:
        raise InvalidInput(
            "The VAPID contact must be a mailto: address or an https: URL, "
            f"not {subject!r}."
        )
    return subject


# Names that only resolve on a LAN (RFC 6762, RFC 8375, and common habits).
_LOCAL_SUFFIXES = (".local", ".localhost", ".lan", ".home.arpa", ".internal")


def _check_contact_domain(domain: str, *, mail: bool) -> None:
    """Push services reach the operator at this contact, and some refuse one
    they cannot reach."""
    domain = domain.lower().rstrip(".")
    reach = "push services need a contact they can reach, like mailto:you@example.org."
    if domain == "localhost" or domain.endswith(_LOCAL_SUFFIXES):
        raise InvalidInput(f"{domain} only exists on this network; {reach}")
    try:
        ip = ipaddress.ip_address(domain)
    except ValueError:
        ip = None
    if ip is not None and mail:
        raise InvalidInput(f"{domain} is an IP address, not a mail domain; {reach}")
    if ip is not None and not ip.is_global:
        raise InvalidInput(f"{domain} only exists on this network; {reach}")
    if ip is None and "." not in domain:
        raise InvalidInput(f"{domain} is not a domain on the internet; {reach}")
