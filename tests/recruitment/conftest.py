import pytest

from patas.recruitment import snapshot


@pytest.fixture(autouse=True)
def fresh_dashboard_snapshot(request):
    """The dashboard's snapshot lives in the database cache table, which no test flush empties:
    every database test starts and ends without one."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db")
    snapshot.forget()
    yield
    snapshot.forget()
