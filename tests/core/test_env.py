from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from patas.core import env


def test_postgres_url_is_parsed():
    db = env.database_from_url(
        "postgres://u:p%40ss@db.example:6543/patas", default_sqlite=Path("x")
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "patas",
        "u",
        "p@ss",
        "db.example",
        "6543",
    )


def test_sqlite_urls_relative_and_absolute():
    rel = env.database_from_url("sqlite:///data/x.db", default_sqlite=Path("x"))
    absolute = env.database_from_url("sqlite:////tmp/x.db", default_sqlite=Path("x"))
    assert rel["NAME"] == "data/x.db"
    assert absolute["NAME"] == "/tmp/x.db"


def test_unknown_scheme_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="PATAS_DATABASE_URL"):
        env.database_from_url("mysql://x", default_sqlite=Path("x"))


def test_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("PATAS_WHATSAPP_MPS", "fast")
    with pytest.raises(ImproperlyConfigured, match="PATAS_WHATSAPP_MPS"):
        env.env_float("PATAS_WHATSAPP_MPS", 80.0)


def test_persistent_secret_is_created_once(tmp_path):
    first = env.persistent_secret(tmp_path, "k")
    assert env.persistent_secret(tmp_path, "k") == first
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0
