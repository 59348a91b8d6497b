import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_dashboard_cache():
    """The dashboard keeps its tables in the process cache: every test starts without them."""
    cache.clear()
    yield
    cache.clear()
