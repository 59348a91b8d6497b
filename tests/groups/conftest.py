import pytest

from groups.factories import PROGRAM, write_pack


@pytest.fixture
def pack(tmp_path, settings):
    settings.CONTENT_DIR = tmp_path
    settings.DEFAULT_PROGRAM = PROGRAM
    yield write_pack(tmp_path)
    from patas.programs import pack as pack_module

    pack_module._cached.cache_clear()
