"""The route schemas on their own: strict JSON types, the field named in each
error, and sentences rather than pydantic's wording."""

import base64
import unicodedata
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from pushdesk.errors import InvalidInput
from pushdesk.push.push_services import is_push_service_host
from pushdesk.push.receipts import TOKEN_LENGTH
from pushdesk.server.schemas import (
    DeviceTestBody,
    ReceiptBody,
    SubscribeBody,
    UnsubscribeBody,
)
from pushdesk.store.receipts import KINDS
from pushdesk.validation import (
    LABEL_LENGTH_CAP,
    Schema,
    auth_secret,
    check,
    device_label,
    p256dh_key,
    push_endpoint,
)
from tests.support.keys import AUTH, P256DH

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc"
SUBSCRIPTION = {
    "endpoint": ENDPOINT,
    "expirationTime": None,
    "keys": {"p256dh": P256DH, "auth": AUTH},
}
PROOF = {"endpoint": ENDPOINT, "auth": AUTH}
RECEIPT = {"id": 1, "device": 2, "receipt": "A" * TOKEN_LENGTH, "kind": "displayed"}


def refusal(schema: type[Schema], body: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        check(schema, body)
    return raised.value


class TestErrors:
    @pytest.mark.parametrize(
        ("schema", "body", "field"),
        [
            (SubscribeBody, SUBSCRIPTION | {"keys": {"auth": AUTH}}, "keys.p256dh"),
            (SubscribeBody, SUBSCRIPTION | {"expirationTime": "1"}, "expirationTime"),
            (
                SubscribeBody,
                SUBSCRIPTION | {"replaces": {"auth": AUTH}},
                "replaces.endpoint",
            ),
            (SubscribeBody, SUBSCRIPTION | {"replaces": []}, "replaces"),
            (UnsubscribeBody, {"endpoint": ENDPOINT}, "auth"),
            (DeviceTestBody, PROOF | {"auth": 16}, "auth"),
            (ReceiptBody, RECEIPT | {"kind": "read"}, "kind"),
        ],
    )
    def test_the_field_is_named_by_its_place_in_the_body(
        self, schema: type[Schema], body: Any, field: str
    ) -> None:
        error = refusal(schema, body)

        assert error.field == field
        assert str(error).startswith(f"{field} ")

    @pytest.mark.parametrize("body", [[SUBSCRIPTION], "x", 5, None, True])
    def test_a_body_that_is_no_object_blames_no_field(self, body: Any) -> None:
        error = refusal(SubscribeBody, body)

        assert error.field is None
        assert str(error) == "The body must be a JSON object."

    @pytest.mark.parametrize(
        "body",
        [
            {},
            SUBSCRIPTION | {"endpoint": 5},
            SUBSCRIPTION | {"keys": "x"},
            SUBSCRIPTION | {"expirationTime": float("nan")},
            SUBSCRIPTION | {"expirationTime": -1},
            SUBSCRIPTION | {"label": "x" * 1001},
            SUBSCRIPTION | {"keys": {"p256dh": P256DH[:-2], "auth": AUTH}},
        ],
    )
    def test_messages_are_sentences_not_pydantic_wording(self, body: Any) -> None:
        message = str(refusal(SubscribeBody, body))

        assert message.endswith(".")
        for pydantic_words in ("Input should", "Value error", "Field required", "["):
            assert pydantic_words not in message

    def test_errors_never_repeat_the_keys_sent(self) -> None:
        secret = base64.b64encode(b"s" * 15).decode()

        message = str(refusal(UnsubscribeBody, PROOF | {"auth": secret}))

        assert secret not in message


class TestStrictTypes:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"id": True}, "id"),
            ({"id": 1.0}, "id"),
            ({"id": "1"}, "id"),
            ({"id": 0}, "id"),
            ({"device": 2**63}, "device"),
            ({"receipt": 1234}, "receipt"),
            ({"receipt": "é" * TOKEN_LENGTH}, "receipt"),
            ({"receipt": "A" * (TOKEN_LENGTH + 1)}, "receipt"),
        ],
    )
    def test_receipts_take_only_row_numbers_and_a_token(
        self, change: dict[str, Any], field: str
    ) -> None:
        assert refusal(ReceiptBody, RECEIPT | change).field == field

    @pytest.mark.parametrize("value", [True, "0", [], {}])
    def test_expiration_time_is_a_number_or_null(self, value: Any) -> None:
        error = refusal(SubscribeBody, SUBSCRIPTION | {"expirationTime": value})

        assert error.field == "expirationTime"

    def test_receipt_kinds_are_the_stores(self) -> None:
        for kind in KINDS:
            assert check(ReceiptBody, RECEIPT | {"kind": kind}).kind == kind


class TestUnknownFields:
    def test_the_browsers_subscription_may_carry_fields_pushdesk_ignores(self) -> None:
        body = SUBSCRIPTION | {"future": {"x": 1}}
        body["keys"] = body["keys"] | {"other": "y"}

        parsed = check(SubscribeBody, body)

        assert parsed.subscription(None, None).p256dh == P256DH
        assert not hasattr(parsed, "future")

    @pytest.mark.parametrize(
        ("schema", "body"),
        [
            (UnsubscribeBody, PROOF | {"admin": True}),
            (DeviceTestBody, PROOF | {"admin": True}),
            (ReceiptBody, RECEIPT | {"admin": True}),
        ],
    )
    def test_bodies_our_own_page_writes_take_no_unknown_field(
        self, schema: type[Schema], body: Any
    ) -> None:
        error = refusal(schema, body)

        assert error.field == "admin"

    def test_an_unknown_field_in_replaces_is_named(self) -> None:
        body = SUBSCRIPTION | {"replaces": PROOF | {"x": 1}}

        assert refusal(SubscribeBody, body).field == "replaces.x"


def browser_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TestRules:
    @given(raw=st.builds(browser_key), alphabet=st.booleans(), pad=st.booleans())
    @settings(max_examples=50, deadline=None)
    def test_any_base64_spelling_of_a_key_is_stored_one_way(
        self, raw: bytes, alphabet: bool, pad: bool
    ) -> None:
        text = (base64.b64encode if alphabet else base64.urlsafe_b64encode)(raw)
        spelled = text.decode() if pad else text.decode().rstrip("=")

        assert p256dh_key(spelled) == unpadded(raw)

    @given(raw=st.binary(min_size=16, max_size=16))
    def test_any_sixteen_bytes_are_an_auth_secret(self, raw: bytes) -> None:
        assert auth_secret(base64.b64encode(raw).decode()) == unpadded(raw)

    @given(point=st.binary(min_size=64, max_size=64))
    def test_random_coordinates_are_not_a_key(self, point: bytes) -> None:
        # Random x and y lie on the curve with negligible chance.
        with pytest.raises(ValueError, match="point on the P-256 curve"):
            p256dh_key(unpadded(b"\x04" + point))

    @given(
        scheme=st.sampled_from(["https", "http", "HTTPS", "ftp", "wss"]),
        host=st.sampled_from(
            [
                "fcm.googleapis.com",
                "x.fcm.googleapis.com",
                "evilfcm.googleapis.com",
                "fcm.googleapis.com.evil.net",
                "googleapis.com",
                "updates.push.services.mozilla.com",
                "web.push.apple.com",
                "push.apple.com.example",
                "wns2-par02p.notify.windows.com",
                "169.254.169.254",
                "127.0.0.1",
                "[::1]",
                "example.com",
            ]
        ),
        port=st.sampled_from(["", ":443", ":8443", ":0"]),
        path=st.sampled_from(["", "/", "/fcm/send/abc", "/w/?token=x"]),
    )
    def test_only_https_push_services_pass(
        self, scheme: str, host: str, port: str, path: str
    ) -> None:
        url = f"{scheme}://{host}{port}{path}"
        try:
            accepted = push_endpoint(url, frozenset()) == url
        except ValueError:
            accepted = False

        expected = (
            scheme.lower() == "https"
            and is_push_service_host(host)
            and port in ("", ":443")
            and path not in ("", "/")
        )
        assert accepted == expected

    @given(label=st.text(max_size=1100))
    def test_an_accepted_label_is_short_printable_text(self, label: str) -> None:
        try:
            kept = device_label(label)
        except ValueError:
            return

        assert len(kept) <= LABEL_LENGTH_CAP
        assert kept == " ".join(kept.split())
        # Private-use and (to this Python) unassigned characters stay: newer
        # emoji are unassigned in an older Unicode database.
        hidden = [c for c in kept if unicodedata.category(c) in ("Cc", "Cf", "Cs")]
        assert set(hidden) <= {"\u200d"}
