"""Checks on what clients send, shared by the API and the command line."""

import base64
import binascii
import ipaddress
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from pushdesk.domain import Replacement, SubscriptionInput
from pushdesk.errors import InvalidInput

MAX_LABEL_LENGTH = 100
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


def parse_subscription(
    body: Any, allowed_origins: Iterable[str] = ()
) -> SubscriptionInput:
    """Validate what ``PushSubscription.toJSON()`` gives, plus an optional label."""
    if not isinstance(body, Mapping):
        raise InvalidInput("The body must be a JSON object.")

    endpoint = _endpoint(body.get("endpoint"), allowed_origins)
    keys = body.get("keys")
    if not isinstance(keys, Mapping):
        raise InvalidInput("keys must be an object with p256dh and auth.", "keys")
    p256dh = _key(keys.get("p256dh"), "keys.p256dh", 65)
    auth = _key(keys.get("auth"), "keys.auth", 16)
    _check_on_curve(p256dh)

    return SubscriptionInput(
        endpoint=endpoint, p256dh=p256dh, auth=auth, label=parse_label(body)
    )


def parse_device_proof(
    body: Mapping[str, Any], allowed_origins: Iterable[str] = ()
) -> Replacement:
    """{endpoint, auth}: a device proving it is the one subscribed there."""
    endpoint = _endpoint(body.get("endpoint"), allowed_origins)
    auth = _key(body.get("auth"), "auth", 16)
    return Replacement(endpoint, auth)


def parse_replaces(
    body: Mapping[str, Any], allowed_origins: Iterable[str] = ()
) -> Replacement | None:
    """``replaces``: {endpoint, auth} of the subscription this one succeeds."""
    value = body.get("replaces")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(
            "replaces must be an object with endpoint and auth.", "replaces"
        )
    endpoint = _endpoint(value.get("endpoint"), allowed_origins)
    auth = _key(value.get("auth"), "replaces.auth", 16)
    return Replacement(endpoint, auth)


def parse_label(body: Mapping[str, Any]) -> str | None:
    """None when absent (keep the stored name); "" when given empty (clear it)."""
    label = body.get("label")
    if label is None:
        return None
    if not isinstance(label, str):
        raise InvalidInput("label must be a string.", "label")
    if not is_text(label, allow=""):
        raise InvalidInput("label may hold only printable text.", "label")
    label = " ".join(label.split())
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(
            f"label is longer than {MAX_LABEL_LENGTH} characters.", "label"
        )
    return label


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
        if not name or not is_text(name, allow=""):
            raise InvalidInput(f"{raw!r} is not a usable group name.", "groups")
        if len(name) > MAX_GROUP_LENGTH:
            raise InvalidInput(
                f"group names are at most {MAX_GROUP_LENGTH} characters.", "groups"
            )
        names.setdefault(name.lower(), name)
    if len(names) > MAX_GROUPS:
        raise InvalidInput(f"a device is in at most {MAX_GROUPS} groups.", "groups")
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


def _endpoint(value: Any, allowed_origins: Iterable[str]) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput("endpoint is missing.", "endpoint")
    if len(value) > MAX_ENDPOINT_LENGTH:
        raise InvalidInput("endpoint is too long.", "endpoint")

    if not is_text(value, allow="") or any(char.isspace() for char in value):
        raise InvalidInput(
            "endpoint may not contain spaces or control characters.", "endpoint"
        )
    parts = _split(value, "endpoint", "endpoint")
    if not parts.hostname:
        raise InvalidInput("endpoint is not a URL.", "endpoint")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "endpoint may not carry a user name or password.", "endpoint"
        )

    if origin_of(value) in set(allowed_origins):
        return value
    if parts.scheme != "https":
        raise InvalidInput("endpoint must be an https URL.", "endpoint")
    return value


def _check_on_curve(p256dh: str) -> None:
    raw = base64.urlsafe_b64decode(p256dh + "=")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise InvalidInput(
            "keys.p256dh is not an uncompressed point on the P-256 curve.",
            "keys.p256dh",
        ) from None


def _key(value: Any, field: str, size: int) -> str:
    """Decode a key in any base64 flavour; store it as unpadded base64url."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field} is missing.", field)

    text = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        padded = text + "=" * (-len(text) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{field} is not base64.", field) from None
    if len(raw) != size:
        raise InvalidInput(f"{field} must be {size} bytes, not {len(raw)}.", field)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


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
