"""The Sending page and `patas outbox`: each number's sender, backlog and bulk stop, and who may
resume bulk sending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from messaging.outbox_helpers import make_man, queue_texts
from patas.core import clock
from patas.core.models import AuditEntry
from patas.messaging import sender as sender_mod
from patas.messaging.models import Message
from patas.messaging.sender import Sender
from patas.messaging.status import sending_status
from recruitment.world import PASSWORD, make_user

pytestmark = pytest.mark.django_db

A, B = "1001", "1002"


@pytest.fixture(autouse=True)
def two_numbers(settings):
    settings.WHATSAPP_NUMBERS = {A: 5.0, B: 20.0}


@pytest.fixture
def backlog(vclock):
    """A: a sender, 2 due (the oldest 15 minutes ago), 1 for tomorrow, 1 waiting for a
    template, 1 sent. B: 1 in flight with no sender, bulk sending stopped. 999: a number no
    longer configured, with one due message."""
    ana, ben = make_man("51900000001", number=A), make_man("51900000002", number=B)
    queue_texts(ana, "old", due_in=timedelta(minutes=-15))
    queue_texts(ana, "new", due_in=timedelta(minutes=-1))
    queue_texts(ana, "tomorrow", due_in=timedelta(days=1))
    for text, status in (("held", "needs_template"), ("gone", "sent")):
        Message.objects.filter(pk=queue_texts(ana, text)[0].pk).update(status=status)
    queue_texts(ben, "flying")
    Message.objects.filter(text="flying").update(status=Message.Status.SENDING)
    queue_texts(make_man("51900000003", number=A), "orphan")
    Message.objects.filter(text="orphan").update(phone_number_id="999")
    assert Sender("w1", phone_number_id=A).hold_lease()
    sender_mod.stop_bulk(B, 131048)


def test_each_number_shows_its_sender_backlog_and_problems(backlog, vclock):
    now = clock.now()
    a, b, orphan = sending_status(now)
    assert (a.phone_number_id, a.mps, a.sender_holder) == (A, 5.0, "w1")
    assert (a.due, a.later, a.sending, a.needs_template) == (2, 1, 0, 1)
    assert a.late_by(now) == timedelta(minutes=15)
    assert a.problems(now) == ["late"]
    assert (b.phone_number_id, b.due, b.sending, b.sender_holder) == (B, 0, 1, "")
    assert b.bulk_stop_reason == "error 131048" and b.bulk_stopped_until is not None
    assert b.problems(now) == ["no_sender", "bulk_stopped"]
    assert (orphan.phone_number_id, orphan.due, orphan.configured) == ("999", 1, False)
    assert "unconfigured" in orphan.problems(now)


def test_a_lapsed_sender_lease_shows_no_sender(backlog, vclock):
    vclock.advance(sender_mod.SENDER_LEASE + timedelta(seconds=1))
    a = sending_status()[0]
    assert a.sender_holder == "" and "no_sender" in a.problems(clock.now())


def test_the_status_costs_the_same_few_queries_whatever_the_backlog(vclock):
    men = [make_man(f"5190000{i:04d}", number=A) for i in range(30)]
    with CaptureQueriesContext(connection) as few:
        sending_status()
    for man in men:
        queue_texts(man, "uno", "dos")
    with CaptureQueriesContext(connection) as many:
        assert sending_status()[0].due == 60
    assert len(few) == len(many) == 3


def _login(client, role):
    make_user(role, role)
    assert client.login(username=role, password=PASSWORD)


def test_admins_see_the_page_and_resume_bulk_sending(client, backlog):
    _login(client, "admin")
    page = client.get("/sending/").content.decode()
    assert A in page and B in page and "w1" in page and "error 131048" in page
    assert f"/sending/{B}/resume/" in page and "Reanudar el envío masivo" in page  # es default

    response = client.post(f"/sending/{B}/resume/")

    assert response.status_code == 302
    assert not sender_mod.bulk_stopped(B)
    entry = AuditEntry.objects.get(action="sender.bulk_resumed")
    assert (entry.actor, entry.object_id) == ("user:admin", B)


def test_supervisors_see_the_page_but_cannot_resume(client, backlog):
    _login(client, "supervisor")
    page = client.get("/sending/")
    assert page.status_code == 200 and "/resume/" not in page.content.decode()
    assert client.post(f"/sending/{B}/resume/").status_code == 403
    assert sender_mod.bulk_stopped(B)
    assert not AuditEntry.objects.filter(action="sender.bulk_resumed").exists()


@pytest.mark.parametrize("role", ["facilitator", "enumerator", "researcher"])
def test_other_roles_are_refused(client, backlog, role):
    _login(client, role)
    assert client.get("/sending/").status_code == 403
    assert client.post(f"/sending/{B}/resume/").status_code == 403
    assert sender_mod.bulk_stopped(B)


def test_an_unknown_number_is_refused_and_changes_nothing(client, backlog):
    _login(client, "admin")
    assert client.post("/sending/999/resume/").status_code == 403
    assert sender_mod.bulk_stopped(B)


def test_the_command_prints_the_table_and_fails_while_a_number_needs_a_person(backlog, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("outbox")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "1001" in out and "1002" in out and "bulk_stopped" in out and "no_sender" in out


def test_the_command_resumes_bulk_sending_and_says_so(backlog, capsys):
    with pytest.raises(SystemExit):
        call_command("outbox", resume=B)
    said = gettext("Bulk sending resumed on %(number)s.") % {"number": B}
    assert said in capsys.readouterr().out  # in the active language
    assert not sender_mod.bulk_stopped(B)
    assert AuditEntry.objects.get(action="sender.bulk_resumed").actor.startswith("cli:")
    with pytest.raises(CommandError, match="'555' is not one of the configured"):
        call_command("outbox", resume="555")


def test_a_quiet_outbox_passes(vclock, capsys):
    call_command("outbox")  # nothing due, nothing stopped: no exit status 1
    assert "1001" in capsys.readouterr().out
