import pytest
from django.urls import reverse

from groups.factories import inbound, outbox
from patas.core.models import AuditEntry
from patas.groups import step
from patas.groups.models import GroupPost
from patas.messaging import router
from patas.messaging.models import Message

pytestmark = pytest.mark.django_db


def say(member, text, **kwargs):
    step.handle(router.inbound_for(inbound(member.participant, text, **kwargs)))


def test_participant_text_is_escaped_in_the_thread(client, people, world):
    say(world["member"], "<script>alert('x')</script>")
    client.force_login(people["facilitator"])
    body = client.get(reverse("console:thread_posts", args=[world["mine"].uid])).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_thread_shows_pseudonyms_never_names_or_phones(client, people, world):
    member = world["member"]
    say(member, "hola a todos")
    client.force_login(people["facilitator"])
    body = client.get(reverse("console:thread", args=[world["mine"].uid])).content.decode()
    assert member.pseudonym in body and "hola a todos" in body
    assert member.participant.phone not in body
    assert member.participant.profile_name not in body


def test_only_admin_sees_the_phone_and_the_view_is_audited(client, people, world):
    member = world["member"]
    url = reverse("console:member", args=[member.uid])
    for role in ("supervisor", "facilitator"):
        client.force_login(people[role])
        assert member.participant.phone not in client.get(url).content.decode()
    assert not AuditEntry.objects.filter(action="participant.view_phone").exists()
    client.force_login(people["admin"])
    assert member.participant.phone in client.get(url).content.decode()
    assert AuditEntry.objects.get(action="participant.view_phone").actor == "user:admin"


def test_posting_from_the_console_reaches_every_member(client, people, world):
    client.force_login(people["facilitator"])
    response = client.post(
        reverse("console:post", args=[world["mine"].uid]), {"text": "Buenas noches, patas"}
    )
    assert response.status_code == 302
    for key in ("member", "other_member"):
        row = outbox(world[key].participant, Message.Purpose.FACILITATOR).get()
        assert row.text == "Facilitador: Buenas noches, patas"
    assert not outbox(world["stranger"].participant).exists()


def test_an_empty_post_changes_nothing(client, people, world):
    client.force_login(people["facilitator"])
    client.post(reverse("console:post", args=[world["mine"].uid]), {"text": ""})
    assert not GroupPost.objects.exists()


def test_hide_through_htmx_returns_the_thread_with_the_post_hidden(client, people, world):
    say(world["member"], "algo")
    post = GroupPost.objects.get()
    client.force_login(people["facilitator"])
    response = client.post(
        reverse("console:post_action", args=[post.uid, "hide"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="post-{post.uid}"' in response.content.decode()
    post.refresh_from_db()
    assert post.status == "hidden"


def test_inbox_lists_held_posts_with_waiting_time_and_reply_clears_them(
    client, people, world, vclock
):
    from datetime import timedelta

    member = world["member"]
    say(member, "necesito hablar", held=True)
    vclock.advance(timedelta(hours=2))
    client.force_login(people["facilitator"])
    body = client.get(reverse("console:inbox")).content.decode()
    assert "necesito hablar" in body and "2" in body.split("necesito hablar")[0][-400:]
    post = GroupPost.objects.get()
    client.post(
        reverse("console:reply", args=[member.uid]),
        {"text": "Te escucho", "post": str(post.uid), "next": "inbox"},
    )
    assert outbox(member.participant, Message.Purpose.FACILITATOR).get().text == (
        "Facilitador: Te escucho"
    )
    assert "necesito hablar" not in client.get(reverse("console:inbox")).content.decode()


def test_remove_from_the_member_page(client, people, world):
    member = world["member"]
    client.force_login(people["facilitator"])
    client.post(reverse("console:remove", args=[member.uid]), {"reason": "agresiones"})
    member.refresh_from_db()
    assert member.left_at is not None and member.removed_reason == "agresiones"


def test_content_preview_shows_bubbles_escaped(client, people, world):
    client.force_login(people["enumerator"])
    body = client.get(reverse("console:content_day", args=[1])).content.decode()
    assert "Hola &lt;b&gt;patas&lt;/b&gt;" in body and "Respira tres veces" in body


def test_the_console_speaks_spanish_and_english(client, people, world):
    client.force_login(people["facilitator"])
    client.post(reverse("set_language"), {"language": "en", "next": "/groups/"})
    assert "My groups" in client.get(reverse("console:groups")).content.decode()
    client.post(reverse("set_language"), {"language": "es", "next": "/groups/"})
    assert "Mis grupos" in client.get(reverse("console:groups")).content.decode()


def test_admin_creates_a_facilitator_and_a_group(client, people, pack):
    client.force_login(people["admin"])
    response = client.post(
        reverse("console:facilitators"), {"username": "rosa", "password": "una clave larga 2026"}
    )
    assert response.status_code == 302
    from django.contrib.auth import get_user_model

    rosa = get_user_model().objects.get(username="rosa")
    assert rosa.groups.filter(name="facilitator").exists()
    client.post(
        reverse("console:manage_groups"),
        {
            "name": "Grupo Piura",
            "facilitator": rosa.pk,
            "size_cap": 40,
            "relay_mode": "digest",
            "digest_every_hours": 4,
        },
    )
    group = rosa.facilitated_groups.get()
    assert (group.name, group.size_cap, group.relay_mode) == ("Grupo Piura", 40, "digest")
    assert (
        AuditEntry.objects.filter(action__in=["console.create_facilitator", "group.create"]).count()
        == 2
    )


def test_login_page_and_login(client, people):
    assert client.get("/login/").status_code == 200
    response = client.post(
        "/login/", {"username": "facilitator", "password": "correct horse battery"}
    )
    assert response.status_code == 302


def test_my_groups_shows_members_day_activity_and_unanswered(client, people, world):
    from patas.programs.models import Enrolment

    member = world["member"]
    Enrolment.objects.create(
        participant=member.participant, program_id="test-groups", program_version="1", current_day=3
    )
    say(member, "hola")
    say(world["other_member"], "ayuda", held=True)
    client.force_login(people["facilitator"])
    summary = client.get(reverse("console:groups")).context["summaries"][0]
    assert (summary.members, summary.day, summary.today, summary.unanswered) == (2, 3, 2, 1)
