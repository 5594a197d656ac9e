import pytest

from pushdesk.errors import InvalidInput
from pushdesk.push.payload import MAX_PAYLOAD_BYTES, payload_size
from pushdesk.services import Services
from tests.support.clock import FakeClock


def message_of_payload_size(size: int) -> str:
    """A message whose encoded payload, with the widest id, is ``size`` bytes."""
    base = payload_size("T", "", None)
    return "m" * (size - base)


def test_a_payload_of_exactly_3993_bytes_is_accepted(
    services: Services, clock: FakeClock
) -> None:
    message = message_of_payload_size(MAX_PAYLOAD_BYTES)
    assert payload_size("T", message, None) == 3993

    services.reminders.schedule("T", message, None, clock.now)


def test_one_byte_more_is_refused_before_anything_is_sent_naming_both_sizes(
    services: Services, clock: FakeClock
) -> None:
    message = message_of_payload_size(MAX_PAYLOAD_BYTES + 1)

    with pytest.raises(InvalidInput, match=r"3994 bytes; the limit is 3993"):
        services.reminders.schedule("T", message, None, clock.now)

    assert services.reminders.all() == []


def test_escaping_counts_towards_the_size(services: Services, clock: FakeClock) -> None:
    # 2000 characters, but each quote becomes two bytes of JSON.
    with pytest.raises(InvalidInput, match="too long to send as one push"):
        services.reminders.schedule("T", '"' * 2000, None, clock.now)


def test_ttl_beyond_four_weeks_is_refused(services: Services, clock: FakeClock) -> None:
    with pytest.raises(InvalidInput, match="TTL"):
        services.reminders.schedule("T", "M", None, clock.now, ttl=40 * 86400)
