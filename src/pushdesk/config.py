"""Where pushdesk keeps its data and how it is started."""

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "PUSHDESK_DATA_DIR"
DATABASE_NAME = "pushdesk.db"
VAPID_KEY_NAME = "vapid_private.pem"
DEFAULT_PORT = 8080
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
    port: int = DEFAULT_PORT
    http: bool = True
    allowed_push_origins: tuple[str, ...] = ()


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
