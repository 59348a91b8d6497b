import pytest
from cryptography.fernet import Fernet
from django.db import connection

from patas.core import crypto
from patas.participants.models import Participant


@pytest.mark.django_db
def test_phone_and_name_are_not_plaintext_in_the_database():
    p = Participant.objects.create(
        phone="51987654321", profile_name="Juan Pérez", phone_hash=crypto.lookup_hash("51987654321")
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT phone, profile_name FROM participants_participant WHERE id = %s", [p.pk]
        )
        phone_raw, name_raw = cur.fetchone()
    assert "51987654321" not in phone_raw and "Juan" not in name_raw
    again = Participant.objects.get(phone_hash=crypto.lookup_hash("+51 987 654 321"))
    assert (again.phone, again.profile_name) == ("51987654321", "Juan Pérez")


def test_rotation_keeps_old_tokens_readable(settings):
    old = settings.FIELD_KEYS[0]
    token = crypto.encrypt("51911122233")
    settings.FIELD_KEYS = [Fernet.generate_key().decode(), old]
    assert crypto.decrypt(token) == "51911122233"
    rotated = crypto.rotate(token)
    settings.FIELD_KEYS = settings.FIELD_KEYS[:1]
    assert crypto.decrypt(rotated) == "51911122233"
    with pytest.raises(ValueError, match="PATAS_FIELD_KEY"):
        crypto.decrypt(token)
