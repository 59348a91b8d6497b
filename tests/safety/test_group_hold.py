"""A held message never reaches the group; the same man's everyday talk does."""

from __future__ import annotations

import pytest

from patas.groups.models import Group, GroupPost, Membership
from patas.messaging import router
from patas.messaging.models import Message
from patas.safety.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def triage_and_group(monkeypatch):  # type: ignore[no-untyped-def]
    steps = {name: router._steps[name] for name in ("triage", "group")}
    monkeypatch.setattr(router, "_steps", steps)


def relayed_to(participant) -> list[str]:  # type: ignore[no-untyped-def]
    rows = Message.objects.filter(participant=participant, direction="out", purpose="relay")
    return list(rows.values_list("text", flat=True))


def test_held_message_stays_out_of_the_group(vclock, mini_pack, make_participant, inbound):  # type: ignore[no-untyped-def]
    author = make_participant(phone="51900000011", last_inbound_at=vclock.now())
    peer = make_participant(phone="51900000022", last_inbound_at=vclock.now())
    group = Group.objects.create(name="G", relay_mode=Group.RelayMode.LIVE)
    Membership.objects.create(group=group, participant=author, pseudonym="Puma")
    Membership.objects.create(group=group, participant=peer, pseudonym="Condor")

    held = inbound(author, "a esa la voy a matar")
    router.route(Message.objects.select_related("participant").get(pk=held.pk))
    held.refresh_from_db()
    assert held.held is True
    assert GroupPost.objects.get(message=held).status == GroupPost.Status.HELD
    assert Alert.objects.filter(message=held).exists()
    assert relayed_to(peer) == []

    fine = inbound(author, "hoy hice el reto con mi jerma")
    router.route(Message.objects.select_related("participant").get(pk=fine.pk))
    assert relayed_to(peer) == ["Puma: hoy hice el reto con mi jerma"]
