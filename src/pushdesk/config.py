"""Where pushdesk keeps its data and how it is started."""

import os
from dataclasses import dataclass, field
from datetime import timedelta
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


@dataclass
class Config:
    data_dir: Path
    server: ServerOptions = field(default_factory=ServerOptions)
    vapid_subject: str | None = None
    max_lateness: timedelta | None = None  # None: keep the stored setting

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_NAME

    @property
    def vapid_key_path(self) -> Path:
        return self.data_dir / VAPID_KEY_NAME
