"""The operator's own time zone, by its IANA name."""

import tzlocal

from pushdesk.log import APP


def local_zone_name() -> str:
    """This machine's IANA zone (e.g. Europe/Berlin); UTC if it has none."""
    try:
        return str(tzlocal.get_localzone_name() or "UTC")
    except Exception as exc:  # tzlocal raises several kinds on odd set-ups
        APP.warning("cannot tell this machine's time zone (%s); using UTC", exc)
        return "UTC"
