"""Shared fixtures. Tests never touch the network: the only fake is at the HTTP seam to Meta."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from patas.core import clock


@pytest.fixture
def vclock():
    """A virtual clock starting on a fixed Monday morning (UTC)."""
    with clock.virtual_clock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)) as c:
        yield c
