"""The router: a message is routed once, and a broken one does not stop the others."""

import pytest

from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Participant


@pytest.fixture
def only_steps(monkeypatch):
    monkeypatch.setattr(router, "_steps", {})
    return router


@pytest.mark.django_db
def test_a_message_is_routed_once(only_steps):
    seen = []
    only_steps.register(
        "count", 50, lambda inbound: seen.append(inbound.text) or router.Result.DONE
    )
    man = Participant.objects.create(wa_user_id="u1")
    msg = Message.objects.create(
        direction="in", participant=man, type="text", text="hola", status="received"
    )
    assert router.route(msg) == "count"
    assert router.route(msg) == "already routed"
    assert seen == ["hola"]


@pytest.mark.django_db
def test_a_broken_message_is_flagged_and_the_next_one_still_routes(only_steps):
    def handler(inbound):
        if inbound.text == "boom":
            raise ValueError("cannot read this")
        return router.Result.DONE

    only_steps.register("fragile", 50, handler)
    man = Participant.objects.create(wa_user_id="u1")
    bad = Message.objects.create(
        direction="in", participant=man, type="text", text="boom", status="received"
    )
    good = Message.objects.create(
        direction="in", participant=man, type="text", text="hola", status="received"
    )
    assert router.route_pending() == 2
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.route, bad.flags) == ("error", ["route_error"])
    assert "cannot read this" in bad.status_reason
    assert good.route == "fragile"
