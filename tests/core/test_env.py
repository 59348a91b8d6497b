import importlib
import io
import json
import logging
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


def test_a_choice_must_be_one_of_its_values(monkeypatch):
    monkeypatch.setenv("PATAS_LOG_FORMAT", " JSON ")
    assert env.env_choice("PATAS_LOG_FORMAT", "plain", ("plain", "json")) == "json"
    monkeypatch.setenv("PATAS_LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="PATAS_LOG_FORMAT='xml'.*plain, json"):
        env.env_choice("PATAS_LOG_FORMAT", "plain", ("plain", "json"))


def test_json_logs_are_one_object_per_line_with_the_extra_fields(settings):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = settings.LOGGING["formatters"]["json"]
    factory = config["()"]
    module, _, name = factory.rpartition(".")
    formatter_class = getattr(importlib.import_module(module), name)
    handler.setFormatter(formatter_class(config["fmt"], rename_fields=config["rename_fields"]))
    log = logging.getLogger("patas.test_json")
    log.addHandler(handler)
    try:
        log.warning("throughput exceeded", extra={"code": 130429, "number": "123"})
    finally:
        log.removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["level"] == "WARNING" and record["logger"] == "patas.test_json"
    assert (record["message"], record["code"], record["number"]) == (
        "throughput exceeded",
        130429,
        "123",
    )
