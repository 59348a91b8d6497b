"""Shared fixtures. Tests never touch the network: the only fake is at the HTTP seam to Meta."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from patas.core import clock


@pytest.fixture
def vclock():
    """A virtual clock starting on a fixed Monday morning (UTC)."""
    with clock.virtual_clock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)) as c:
        yield c


def _end_other_sessions() -> None:
    """End the live server's leftover PostgreSQL sessions (threads that served the browser's
    keep-alive sockets) so the test database can be dropped."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(scope="session")
def urls_loaded(django_db_setup, django_db_blocker):
    """Import the URLconf with the test database open: patas.core.metrics registers a
    collector when imported, which the live server's thread would otherwise do with database
    access blocked. Torn down after the live server, before the test database is dropped."""
    with django_db_blocker.unblock():
        import patas.core.metrics  # noqa: F401
    yield
    with django_db_blocker.unblock():
        _end_other_sessions()


@pytest.fixture
def open_page(monkeypatch):
    """Open tabs in one headless Chromium for the test: `open_page(locale=..., viewport=...)`."""
    from browser import ARGS, CHROMIUM

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are still
    # plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

        def new_tab(*, width=1100, height=800, locale="en-US", timeout_ms=15000):
            tab = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
            tab.set_default_timeout(timeout_ms)
            return tab

        yield new_tab
        browser.close()
    # The live server's leftover sessions are ended once, after the last browser test
    # (`urls_loaded`): ending them here would break its thread's connection for the next test.
