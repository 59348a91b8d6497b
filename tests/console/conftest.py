import pytest

from groups.factories import PROGRAM, make_group, make_member, make_user, write_pack

ROLE_NAMES = ["admin", "supervisor", "facilitator", "enumerator", "researcher"]


@pytest.fixture
def pack(tmp_path, settings):
    settings.CONTENT_DIR = tmp_path
    settings.DEFAULT_PROGRAM = PROGRAM
    yield write_pack(tmp_path)
    from patas.programs import pack as pack_module

    pack_module._cached.cache_clear()


@pytest.fixture
def people(db):
    users = {role: make_user(role, role) for role in ROLE_NAMES}
    users["other_facilitator"] = make_user("other_facilitator", "facilitator")
    users["norole"] = make_user("norole")
    return users


@pytest.fixture
def world(people, pack, vclock):
    """Two groups: one facilitated by `facilitator`, the other by `other_facilitator`."""
    mine = make_group(name="Grupo Lima", facilitator=people["facilitator"])
    theirs = make_group(name="Grupo Cusco", facilitator=people["other_facilitator"])
    member = make_member(mine)
    other_member = make_member(mine)
    stranger = make_member(theirs)
    return {
        "mine": mine,
        "theirs": theirs,
        "member": member,
        "other_member": other_member,
        "stranger": stranger,
    }
