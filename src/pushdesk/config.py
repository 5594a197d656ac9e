"""Where pushdesk keeps its data and how it is started."""

import os
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "PUSHDESK_DATA_DIR"
DATABASE_NAME = "pushdesk.db"
VAPID_KEY_NAME = "vapid_private.pem"
DEFAULT_PORT = 8080  # plain HTTP: the whole app with --http, else the set-up page
DEFAULT_HTTPS_PORT = 8443
DEFAULT_HOST = "0.0.0.0"


def resolve_data_dir(option: str | Path | None) -> Path:
    """``--data-dir`` wins, then $PUSHDESK_DATA_DIR, then the platform default."""
    if option:
        chosen = Path(option)
    elif os.environ.get(DATA_DIR_ENV):
        chosen = Path(os.environ[DATA_DIR_ENV])
    else:
        chosen = Path(platformdirs.user_data_dir("pushdesk", appauthor=False))
    return chosen.expanduser().absolute()


class TlsMode(StrEnum):
    """How the page is served to phones."""

    OWN_CA = "own-ca"  # HTTPS with a certificate from pushdesk's own CA
    OWN_CERTIFICATE = "own-certificate"  # HTTPS with the operator's certificate
    PLAIN_HTTP = "plain-http"  # no push on the LAN: localhost or a TLS proxy


@dataclass
class ServerOptions:
    host: str = DEFAULT_HOST
    port: int | None = None  # None: 8443 with HTTPS, 8080 with --http
    http: bool = False  # plain HTTP only (localhost, or behind a TLS proxy)
    helper_port: int | None = DEFAULT_PORT  # plain-HTTP set-up page beside HTTPS
    cert: Path | None = None  # the operator's own certificate and key
    key: Path | None = None
    allowed_push_origins: tuple[str, ...] = ()

    @property
    def main_port(self) -> int:
        if self.port is not None:
            return self.port
        return DEFAULT_PORT if self.http else DEFAULT_HTTPS_PORT

    @property
    def tls_mode(self) -> TlsMode:
        if self.http:
            return TlsMode.PLAIN_HTTP
        if self.cert is not None:
            return TlsMode.OWN_CERTIFICATE
        return TlsMode.OWN_CA


@dataclass(frozen=True)
class ServerOverrides:
    """Server options given on the command line; None (or False) when not given.

    They win over the saved settings for the run they were given to.
    """

    host: str | None = None
    port: int | None = None
    http_port: int | None = None
    http: bool = False
    cert: Path | None = None
    key: Path | None = None

    def without(self, names: AbstractSet[str]) -> "ServerOverrides":
        """These overrides minus the settings the operator has since changed."""
        tls_changed = bool(names & {"tls", "cert", "key"})
        return ServerOverrides(
            host=None if "host" in names else self.host,
            port=None if "port" in names else self.port,
            http_port=None if "http_port" in names else self.http_port,
            http=self.http and not tls_changed,
            cert=None if tls_changed else self.cert,
            key=None if tls_changed else self.key,
        )


@dataclass
class Config:
    data_dir: Path
    server: ServerOptions = field(default_factory=ServerOptions)
    vapid_subject: str | None = None
    max_lateness: timedelta | None = None  # None: keep the stored setting
    # None: ``server`` is used as given (tests, embedding); otherwise the
    # saved settings apply, with these command-line options winning.
    command_line: ServerOverrides | None = None

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_NAME

    @property
    def vapid_key_path(self) -> Path:
        return self.data_dir / VAPID_KEY_NAME
