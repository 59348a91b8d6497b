"""The supervisors' pages, the facilitator's flag, and erasure / subject access in the console."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from patas.core.models import AuditEntry
from patas.groups.models import GroupPost
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.safety import actions, queries
from patas.safety.models import Alert
from safety.views_world import ALARMING, build_world, say

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    """English pages by default (the console's default language is Spanish)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def world(tmp_path, settings, vclock):  # type: ignore[no-untyped-def]
    return build_world(tmp_path, settings, with_partner=False)


@pytest.fixture
def supervisor(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["supervisor"])
    return client


def trail(alert: Alert) -> list[str]:
    rows = AuditEntry.objects.filter(object_type="safety.alert", object_id=str(alert.pk))
    return list(rows.order_by("id").values_list("action", flat=True))


# --- the queue ---------------------------------------------------------------------------------


def test_time_left_reads_as_left_or_overdue(vclock):  # type: ignore[no-untyped-def]
    now = vclock.now()
    with translation.override("en"):
        assert queries.time_left(now + timedelta(minutes=65), now) == ("1 h 05 min left", False)
        assert queries.time_left(now - timedelta(minutes=12), now) == ("overdue by 12 min", True)
        assert queries.time_left(now + timedelta(days=2, hours=3), now) == ("2 d 3 h left", False)
    with translation.override("es"):
        assert queries.time_left(now - timedelta(minutes=12), now) == ("vencida hace 12 min", True)


def test_queue_sorts_by_severity_then_deadline_and_shows_time_left(supervisor, world, vclock):  # type: ignore[no-untyped-def]
    low_soon = say(world.member, "me quiero morir, no aguanto", held=True)
    alert_b = actions.raise_alert(low_soon, [_hit("crisis", "low")])
    medium = actions.raise_alert(say(world.member, "otra cosa"), [_hit("threat", "medium")])
    Alert.objects.filter(pk=alert_b.pk).update(due_at=vclock.now() - timedelta(minutes=30))
    vclock.advance(timedelta(minutes=5))
    html = supervisor.get(reverse("safety:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    order = [html.index(a.ref) for a in (world.alert, medium, alert_b)]
    assert order == sorted(order), "high first, then medium, then low"
    assert "55 min left" in html  # the high alert: 60 min SLA, 5 min later
    assert "overdue by 35 min" in html
    assert 'hx-trigger="every 5s"' in html and reverse("safety:queue_rows") in html
    assert world.member.pseudonym in html
    assert world.man.phone not in html


def test_the_polled_rows_follow_new_alerts_and_the_status_filter(supervisor, world):  # type: ignore[no-untyped-def]
    rows = reverse("safety:queue_rows")
    before = supervisor.get(rows).content.decode()
    fresh = actions.raise_alert(say(world.member, "otra"), [_hit("weapons", "medium")])
    after = supervisor.get(rows).content.decode()
    assert fresh.ref not in before and fresh.ref in after
    assert "<html" not in after  # a fragment for htmx, not a page
    actions.acknowledge(fresh, world.users["supervisor"])
    only_open = supervisor.get(rows + "?status=open").content.decode()
    assert world.alert.ref in only_open and fresh.ref not in only_open


def test_the_queue_does_not_query_per_alert(supervisor, world, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    for n in range(30):
        actions.raise_alert(say(world.member, f"mensaje {n}"), [_hit("crisis", "low")])
    with django_assert_max_num_queries(12):
        html = supervisor.get(reverse("safety:queue_rows")).content.decode()
    assert html.count("<tr") == 31


def _hit(category: str, severity: str):  # type: ignore[no-untyped-def]
    from patas.safety.triage import Hit

    return Hit(category=category, severity=severity, phrase="x", matched="x", language="es")


# --- one alert ---------------------------------------------------------------------------------


def test_alert_page_shows_message_context_hits_and_escapes_his_text(supervisor, world):  # type: ignore[no-untyped-def]
    html = supervisor.get(reverse("safety:alert", args=[world.alert.uid])).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    assert "hola patas, buen dia" in html  # his message before it, as context
    assert world.member.pseudonym in html
    assert reverse("console:member", args=[world.member.uid]) in html
    assert world.man.phone not in html and world.man.profile_name not in html
    assert "pegue" in html  # the lexicon phrase that matched
    assert "safety.alert_raised" in html  # the audit trail


def test_acknowledge_note_escalate_resolve_each_audited(supervisor, world):  # type: ignore[no-untyped-def]
    alert = world.alert

    def step(name: str, text: str = "") -> None:
        url = reverse("safety:alert_step", args=[alert.uid, name])
        response = supervisor.post(url, {"text": text})
        assert response.status_code == 302

    step("acknowledge")
    step("note", "Llamé al facilitador")
    step("escalate", "Riesgo alto para ella")
    step("resolve", "Derivado a Línea 100")
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_by == world.users["supervisor"]
    assert trail(alert) == [
        "safety.alert_raised",
        "safety.alert_acknowledged",
        "safety.alert_note_added",
        "safety.alert_escalated",
        "safety.alert_resolved",
    ]
    html = supervisor.get(reverse("safety:alert", args=[alert.uid])).content.decode()
    assert "Llamé al facilitador" in html and "Derivado a Línea 100" in html


def test_a_step_that_does_not_apply_is_shown_and_changes_nothing(supervisor, world):  # type: ignore[no-untyped-def]
    url = reverse("safety:alert_step", args=[world.alert.uid, "resolve"])
    response = supervisor.post(url, {"text": "   "}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Nothing was changed: say how the alert was resolved" in response.content.decode()
    too_long = supervisor.post(url, {"text": "x" * 2001}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "at most 2000 characters" in too_long.content.decode()
    actions.acknowledge(world.alert, world.users["supervisor"])
    ack = reverse("safety:alert_step", args=[world.alert.uid, "acknowledge"])
    response = supervisor.post(ack, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already acknowledged" in response.content.decode()
    world.alert.refresh_from_db()
    assert world.alert.status == "acknowledged"
    assert trail(world.alert) == ["safety.alert_raised", "safety.alert_acknowledged"]
    unknown = reverse("safety:alert_step", args=[world.alert.uid, "delete"])
    assert supervisor.post(unknown).status_code == 404


def test_facilitators_cannot_open_alerts(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["facilitator"])
    assert client.get(reverse("safety:queue")).status_code == 404
    assert client.get(reverse("safety:alert", args=[world.alert.uid])).status_code == 404
    url = reverse("safety:alert_step", args=[world.alert.uid, "resolve"])
    assert client.post(url, {"text": "no"}).status_code == 404
    world.alert.refresh_from_db()
    assert world.alert.status == "open"


def test_pages_in_spanish(supervisor, world):  # type: ignore[no-untyped-def]
    html = supervisor.get(reverse("safety:queue"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Alertas de seguridad" in html and "violencia revelada" in html


# --- the facilitator's flag --------------------------------------------------------------------


def test_facilitator_flags_a_post_and_a_supervisor_sees_it(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["facilitator"])
    url = reverse("safety:flag_post", args=[world.post.uid])
    response = client.post(url, {"severity": "high", "reason": "Habla raro de su hijo"})
    assert response.status_code == 302
    alert = Alert.objects.get(category="flagged_by_facilitator")
    assert (alert.message, alert.severity, alert.participant) == (
        world.post.message,
        "high",
        world.man,
    )
    assert alert.notes.get().text == "Habla raro de su hijo"
    raised = AuditEntry.objects.get(action="safety.alert_raised", object_id=str(alert.pk))
    assert raised.actor == "user:facilitator"
    again = client.post(url, {"severity": "high"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 400 and "already flagged" in again.content.decode()
    assert Alert.objects.filter(category="flagged_by_facilitator").count() == 1
    client.force_login(world.users["supervisor"])
    html = client.get(reverse("safety:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "flagged by facilitator" in html and alert.ref in html


def test_flag_by_htmx_returns_the_button_swapped(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["facilitator"])
    url = reverse("safety:flag_post", args=[world.post.uid])
    response = client.post(url, {"severity": "medium"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="flag-{world.post.uid}"' in response.text
    assert Alert.objects.filter(category="flagged_by_facilitator", severity="medium").exists()


def test_flag_refuses_other_groups_bad_severity_and_facilitator_posts(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["other_facilitator"])
    url = reverse("safety:flag_post", args=[world.post.uid])
    assert client.post(url, {"severity": "high"}).status_code == 404
    client.force_login(world.users["facilitator"])
    response = client.post(url, {"severity": "extreme"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    from patas.groups import actions as group_actions

    own_post = group_actions.post_as_facilitator(world.users["facilitator"], world.mine, "Hola")
    response = client.post(
        reverse("safety:flag_post", args=[own_post.uid]),
        {"severity": "low"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "man's message" in response.text
    assert not Alert.objects.filter(category="flagged_by_facilitator").exists()


def test_flag_button_snippet_renders_for_a_mans_post(world, rf):  # type: ignore[no-untyped-def]
    from django.template.loader import render_to_string

    html = render_to_string("safety/_flag_button.html", {"p": world.post})
    assert reverse("safety:flag_post", args=[world.post.uid]) in html
    facilitator_post = GroupPost(group=world.mine, text="x", status="relayed")
    assert render_to_string("safety/_flag_button.html", {"p": facilitator_post}).strip() == ""


def test_facilitator_flags_one_of_his_messages_from_his_page(client, world):  # type: ignore[no-untyped-def]
    message = world.post.message
    url = reverse("safety:flag_message", args=[message.uid])
    back = reverse("console:member", args=[world.member.uid])
    for outsider in ("other_facilitator", "researcher", "enumerator"):
        client.force_login(world.users[outsider])
        assert client.post(url, {"severity": "low"}).status_code == 404
    client.force_login(world.users["facilitator"])
    response = client.post(url, {"severity": "low", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    alert = Alert.objects.get(category="flagged_by_facilitator")
    assert (alert.message_id, alert.severity) == (message.pk, "low")
    evil = client.post(url, {"severity": "low", "next": "https://evil.example/"})
    assert evil["Location"] == reverse("console:home")  # already flagged; no open redirect
    assert Alert.objects.filter(category="flagged_by_facilitator").count() == 1
    reply = Message.objects.create(
        direction="out", participant=world.man, type="text", text="hola", status="queued"
    )
    refused = client.post(
        reverse("safety:flag_message", args=[reply.uid]),
        {"severity": "low"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 400 and "man's message" in refused.text


# --- erasure and subject access ----------------------------------------------------------------


def test_admin_finds_him_by_reference_and_downloads_his_data(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["admin"])
    found = client.get(reverse("safety:find_person"), {"ref": world.man.ref})
    assert found.status_code == 302 and str(world.man.uid) in found["Location"]
    missing = client.get(reverse("safety:find_person"), {"ref": "zz"}, HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 200 and "not a participant reference" in missing.text
    response = client.get(reverse("safety:export", args=[world.man.uid]))
    assert response["Content-Disposition"].endswith(f'patas-{world.man.ref}.json"')
    data = json.loads(response.content)
    assert data["phone"] == world.man.phone and data["reference"] == world.man.ref
    assert any(m["text"] == ALARMING for m in data["messages"])
    assert AuditEntry.objects.filter(
        action="privacy.subject_access_export", actor="user:admin"
    ).exists()


def test_erasure_needs_his_reference_typed_and_then_erases(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users["admin"])
    url = reverse("safety:erase", args=[world.man.uid])
    page = client.get(url).content.decode()
    assert world.man.ref in page and world.man.phone not in page
    wrong = client.post(url, {"confirm": "ABCDEF12"}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 200 and "nothing was erased" in wrong.text
    assert Participant.objects.get(pk=world.man.pk).status != "erased"
    done = client.post(url, {"confirm": world.man.ref.lower()})
    assert done.status_code == 302
    man = Participant.objects.get(pk=world.man.pk)
    assert man.status == "erased" and not man.phone and not man.profile_name
    assert not GroupPost.objects.filter(author=world.member).exclude(text="").exists()
    assert AuditEntry.objects.filter(action="privacy.erased", actor="user:admin").exists()
    again = client.post(url, {"confirm": world.man.ref}, HTTP_ACCEPT_LANGUAGE="en")
    assert "already erased" in again.text
    assert AuditEntry.objects.filter(action="privacy.erased").count() == 1


@pytest.mark.parametrize("role", ["supervisor", "facilitator", "researcher", "enumerator"])
def test_only_admins_erase_or_export(client, world, role):  # type: ignore[no-untyped-def]
    client.force_login(world.users[role])
    for name in ("person", "erase", "export"):
        assert client.get(reverse(f"safety:{name}", args=[world.man.uid])).status_code == 404
    url = reverse("safety:erase", args=[world.man.uid])
    assert client.post(url, {"confirm": world.man.ref}).status_code == 404
    assert Participant.objects.get(pk=world.man.pk).status != "erased"


def test_the_flag_button_is_on_the_thread_and_his_page(client, world):
    """The facilitator finds the flag button where he reads the men's messages."""
    client.force_login(world.users["facilitator"])
    thread = client.get(reverse("console:thread_posts", args=[world.mine.uid])).content.decode()
    assert reverse("safety:flag_post", args=[world.post.uid]) in thread
    page = client.get(reverse("console:member", args=[world.member.uid])).content.decode()
    assert reverse("safety:flag_message", args=[world.post.message.uid]) in page
