"""The browsers' push services: the only hosts a subscription may point at.

A subscription's endpoint is a URL a client posted, and pushdesk later sends
to it; anything but a real push service (or an origin the operator allowed
by hand) would let a client aim pushdesk at hosts of its choosing.
"""

# Each domain counts with all of its subdomains.
PUSH_SERVICE_DOMAINS = (
    # Google FCM: Chrome, Edge and other Chromium browsers.
    "fcm.googleapis.com",
    # The GCM-era host, which Chrome still hands out for some subscriptions.
    "android.googleapis.com",
    # Mozilla autopush: Firefox (updates.push.services.mozilla.com).
    "push.services.mozilla.com",
    # Apple: Safari on macOS and iOS (web.push.apple.com).
    "push.apple.com",
    # Microsoft WNS: Edge on Windows (wns2-xxx.notify.windows.com).
    "notify.windows.com",
)


def is_push_service_host(host: str) -> bool:
    """Is ``host`` a known browser push service, or one of its subdomains?

    Case and a final dot do not matter, as in DNS.
    """
    host = host.lower().removesuffix(".")
    return any(
        host == domain or host.endswith("." + domain) for domain in PUSH_SERVICE_DOMAINS
    )
