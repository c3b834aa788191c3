"""Settings read from the environment and an optional `.env` file.

Kept free of heavy imports (no aiogram, no SQLAlchemy): `python -m bot` reads and checks its
settings first, so a missing token or a mistyped URL is reported within a second.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LOCALES = ("kk", "ru", "en")

TOKEN_HELP = (
    "BOT_TOKEN is {problem}: open @BotFather in Telegram, send /newbot (or /token for an "
    "existing bot) and start the bot with BOT_TOKEN=123456789:AA... in the environment or .env"
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line meant for the operator."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot process needs to know about its surroundings."""

    bot_token: str
    database_url: str
    default_locale: str = "ru"
    timezone: str = "Asia/Almaty"
    registrar_contact: str = "Office of the Registrar"
    bot_api_url: str | None = None
    university_name: str = "Demo University"
    redis_url: str | None = None
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    run_scheduler: bool = True
    # Per-person flood control: updates per second and burst; 0 switches it off.
    throttle_rate: float = 3.0
    throttle_burst: float = 15.0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    # Prometheus metrics and /healthz on a port of their own; None switches them off.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'ais.sqlite3'}"


def token_is_well_formed(token: str) -> bool:
    """The shape Telegram gives tokens, `123456789:AA...` (aiogram's own rule, without aiogram)."""
    left, sep, right = token.partition(":")
    return bool(sep) and left.isdigit() and bool(right) and not any(c.isspace() for c in token)


def _mask(url: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


def check_database_url(url: str) -> str:
    """The URL if it names a database the bot can use, else a ConfigError saying what to write."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigError(
            f"DATABASE_URL {_mask(url)!r} is not a URL: write sqlite+aiosqlite:///path/ais.sqlite3"
            " or postgresql+asyncpg://user:password@host:5432/dbname"
        )
    if scheme == "sqlite+aiosqlite":
        return url
    if scheme == "postgresql+asyncpg":
        if not urlsplit(url).path.strip("/"):
            raise ConfigError(
                f"DATABASE_URL {_mask(url)!r} names no database: "
                "write postgresql+asyncpg://user:password@host:5432/dbname"
            )
        return url
    if scheme in ("postgresql", "postgres") or scheme.startswith(("postgresql+", "postgres+")):
        raise ConfigError(
            "DATABASE_URL must use the asyncpg driver: write postgresql+asyncpg://"
            + _mask(url).partition("://")[2]
        )
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        raise ConfigError(
            f"DATABASE_URL must use the aiosqlite driver: write sqlite+aiosqlite://{rest}"
        )
    raise ConfigError(
        f"DATABASE_URL {_mask(url)!r} is neither SQLite nor PostgreSQL: write "
        "sqlite+aiosqlite:///path/ais.sqlite3 or postgresql+asyncpg://user:password@host/dbname"
    )


def _redis_url(env: dict[str, str]) -> str | None:
    url = env.get("REDIS_URL", "").strip() or None
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL must look like redis://host:6379/0, got {_mask(url)!r} "
            "(or leave it empty to keep dialogues in memory)"
        )
    return url


def _port(env: dict[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number (1-65535), got {raw!r}")
    return int(raw)


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}")


def load_env(env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins)."""
    path = env_file if env_file is not None else Path.cwd() / ".env"
    values: dict[str, str] = {}
    if path.is_file():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)
    return values


def load_settings(env: dict[str, str] | None = None, *, require_token: bool = True) -> Settings:
    """Build settings, raising ConfigError with a one-line explanation on bad input."""
    env = load_env() if env is None else env
    token = env.get("BOT_TOKEN", "").strip()
    if require_token:
        if not token:
            raise ConfigError(TOKEN_HELP.format(problem="not set"))
        if not token_is_well_formed(token):
            raise ConfigError(TOKEN_HELP.format(problem="malformed"))

    locale = env.get("DEFAULT_LOCALE", "ru").strip().lower() or "ru"
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError(
            f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, got {locale!r}"
        )
    timezone = env.get("TIMEZONE", "Asia/Almaty").strip() or "Asia/Almaty"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TIMEZONE {timezone!r} is not a known time zone") from exc

    api_url = env.get("BOT_API_URL", "").strip().rstrip("/") or None
    if api_url is not None and not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"BOT_API_URL must look like http://host:port, got {api_url!r}")

    return Settings(
        bot_token=token,
        database_url=check_database_url(
            env.get("DATABASE_URL", "").strip() or default_database_url()
        ),
        default_locale=locale,
        timezone=timezone,
        registrar_contact=env.get("REGISTRAR_CONTACT", "").strip()
        or "Office of the Registrar, room 101, +7 (7122) 27-63-00, registrar@demo-university.kz",
        bot_api_url=api_url,
        university_name=env.get("UNIVERSITY_NAME", "").strip() or "Demo University",
        redis_url=_redis_url(env),
        login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_int(env, "LOGIN_WINDOW_MINUTES", 15),
        login_lock_minutes=_int(env, "LOGIN_LOCK_MINUTES", 15),
        run_scheduler=_bool(env, "RUN_SCHEDULER", True),
        throttle_rate=_float(env, "THROTTLE_RATE", 3.0),
        throttle_burst=_float(env, "THROTTLE_BURST", 15.0),
        metrics_port=_port(env, "METRICS_PORT"),
        metrics_host=env.get("METRICS_HOST", "").strip() or "127.0.0.1",
        # The letterhead of issued documents: UNIVERSITY_ADDRESS, UNIVERSITY_PHONE, ...
        extra={
            key.lower(): value.strip()
            for key, value in env.items()
            if key.startswith("UNIVERSITY_") and key != "UNIVERSITY_NAME" and value.strip()
        },
        **_webhook(env),
    )


_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def _webhook(env: dict[str, str]) -> dict[str, object]:
    url = env.get("WEBHOOK_URL", "").strip() or None
    if url is None:
        return {}
    if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        raise ConfigError(f"WEBHOOK_URL must be an https:// address, got {url!r}")
    secret = env.get("WEBHOOK_SECRET", "").strip()
    if not _SECRET_RE.match(secret):
        raise ConfigError(
            "WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and - "
            "(Telegram sends it back in every request, so spoofed updates are refused)"
        )
    return {
        "webhook_url": url,
        "webhook_secret": secret,
        "webhook_host": env.get("WEBHOOK_HOST", "").strip() or "127.0.0.1",
        "webhook_port": _int(env, "WEBHOOK_PORT", 8080),
    }
