"""Steps that say which messages they want: skipped for a man's first message in a batch when
not interested, run for everything else, and the program behaves exactly as without skipping."""

import pytest
from django.core.management import call_command
from django.db import connection

from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Participant


@pytest.fixture
def only_steps(monkeypatch):
    monkeypatch.setattr(router, "_steps", {})
    return router


def _said(man, text):
    return Message.objects.create(
        direction="in", participant=man, type="text", text=text, status="received"
    )


@pytest.mark.django_db
def test_a_step_runs_only_for_the_messages_it_wants_and_for_later_ones_of_the_same_man(
    only_steps,
):
    seen = []

    def handler(inbound):
        seen.append(inbound.text)
        return router.Result.CONTINUE

    def wants_b(inbounds):
        return {i.message.pk for i in inbounds if i.participant.wa_user_id == "b"}

    only_steps.register("picky", 50, handler, wants_b)
    a, b = Participant.objects.create(wa_user_id="a"), Participant.objects.create(wa_user_id="b")
    _said(a, "a1"), _said(b, "b1"), _said(a, "a2")

    assert router.route_pending() == 3
    # a1 is skipped; a2 runs anyway (a1 might have changed what the step would do for a).
    assert seen == ["b1", "a2"]
    routes = dict(Message.objects.values_list("text", "route"))
    assert routes == {"a1": "none", "b1": "none", "a2": "none"}


@pytest.mark.django_db
def test_a_step_that_cannot_say_what_it_wants_runs_for_every_message(only_steps):
    seen = []

    def broken(inbounds):
        raise RuntimeError("no database today")

    only_steps.register("step", 50, lambda i: seen.append(i.text) or router.Result.DONE, broken)
    man = Participant.objects.create(wa_user_id="a")
    _said(man, "hola")
    assert router.route_pending() == 1
    assert seen == ["hola"]


def _signature():
    """What the program did: every inbound's route and every outbound message's kind, in
    order. Not the texts: group nicknames are drawn afresh each run."""
    inbound = list(Message.objects.filter(direction="in").order_by("id").values_list("route"))
    rows = Message.objects.filter(direction="out").order_by("id")
    rank: dict[int, int] = {}  # men by first message, so ids from another run compare
    outbound = [
        (rank.setdefault(man, len(rank)), purpose, kind, status)
        for man, purpose, kind, status in rows.values_list(
            "participant_id", "purpose", "type", "status"
        )
    ]
    return inbound, outbound


# Compared draw for draw, which only SQLite gives: on PostgreSQL rows with equal sort keys come
# back in no fixed order between runs, the simulation's random draws follow that order, and two
# runs with the same seed drift apart with or without skipping (seen in CI).
@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="a run is reproducible draw for draw on SQLite only"
)
@pytest.mark.django_db(transaction=True)
def test_skipping_changes_nothing_the_program_does(monkeypatch):
    from patas.simulation.runner import Options, Simulation

    # Batches reorder the outbox across men, which changes the simulation's later draws;
    # test_router_batch.py compares them with one by one. Here: skipping only.
    monkeypatch.setattr(router, "route_batches", lambda batch, skips: set())
    Simulation(Options(men=12, seed=5)).run()
    with_skips = _signature()
    call_command("flush", interactive=False, verbosity=0)
    monkeypatch.setattr(router, "skipped_steps", lambda batch: {})
    Simulation(Options(men=12, seed=5)).run()
    without = _signature()

    assert len(with_skips[0]) > 100 and len(with_skips[1]) > 300
    assert {route for (route,) in with_skips[0]} >= {"open_survey", "intake", "program"}
    assert with_skips == without
