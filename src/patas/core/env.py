"""Typed readers for environment variables that fail loudly and name the variable."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: expected one of {', '.join(choices)}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of true/false/1/0/yes/no")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a number") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a positive number")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def persistent_secret(data_dir: Path, filename: str, *, fernet: bool = False) -> str:
    """A secret kept in the data dir, created on first use: the embedded default needs no setup."""
    path = data_dir / filename
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    if fernet:
        from cryptography.fernet import Fernet

        value = Fernet.generate_key().decode()
    else:
        value = secrets.token_urlsafe(48)
    # Write with owner-only permissions: these keys protect identifying data.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def database_from_url(url: str, *, default_sqlite: Path) -> dict[str, Any]:
    """Django DATABASES entry from `sqlite:///path` or `postgres://user:pw@host:port/name`."""
    if not url:
        default_sqlite.parent.mkdir(parents=True, exist_ok=True)
        return _sqlite(str(default_sqlite))
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path.db or sqlite:////absolute/path.db (as in SQLAlchemy URLs)
        path = unquote(parsed.path)[1:]
        return _sqlite(path or ":memory:")
    if parsed.scheme in {"postgres", "postgresql"}:
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "patas",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": int(options.pop("conn_max_age", "60")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": options.pop("test_name", None)},
        }
    raise ImproperlyConfigured(
        f"PATAS_DATABASE_URL={url!r}: expected sqlite:///PATH or postgres://USER@HOST:PORT/NAME"
    )


def _sqlite(path: str) -> dict[str, Any]:
    # WAL lets readers (the console) work while the worker writes; IMMEDIATE transactions take
    # the write lock up front so two writers queue on busy_timeout instead of failing mid-way.
    # Tests use a file next to it, not an in-memory database: the live server's threads and the
    # test share it through WAL and busy_timeout instead of failing with "table is locked".
    test_name = None if path == ":memory:" else str(Path(path).with_name(f"test_{Path(path).name}"))
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "TEST": {"NAME": test_name},
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"
            ),
        },
    }


def env_numbers(name: str, default_mps: float) -> dict[str, float]:
    """`ID[:MPS],ID[:MPS],...` -> {phone_number_id: mps}, in the order given (the first is the
    default number); an entry without MPS takes `default_mps`. Unset or empty: {}."""
    raw = os.environ.get(name, "")
    numbers: dict[str, float] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        number, sep, rate = (piece.strip() for piece in entry.partition(":"))
        if not number.isdigit():
            raise ImproperlyConfigured(
                f"{name}: bad entry {entry!r}: the phone number id must be digits (ID or ID:MPS)"
            )
        try:
            mps = float(rate) if sep else default_mps
        except ValueError:
            mps = 0.0
        if not 0 < mps < float("inf"):  # also refuses nan
            raise ImproperlyConfigured(
                f"{name}: bad entry {entry!r}: MPS must be a positive number (ID or ID:MPS)"
            )
        if number in numbers:
            raise ImproperlyConfigured(f"{name}: bad entry {entry!r}: {number} is listed twice")
        numbers[number] = mps
    return numbers
