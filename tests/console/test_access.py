"""Each role x each page: allowed (200/302) or refused (403/404)."""

import pytest
from django.urls import reverse

from groups.factories import inbound
from patas.groups import step
from patas.groups.models import GroupPost
from patas.messaging import router

OK, FORBIDDEN, NOT_FOUND, LOGIN = 200, 403, 404, "login"
ROLES = ["admin", "supervisor", "facilitator", "researcher", "enumerator", "norole"]


def page_urls(world, post):
    return {
        "groups": ("get", reverse("console:groups")),
        "own_thread": ("get", reverse("console:thread", args=[world["mine"].uid])),
        "other_thread": ("get", reverse("console:thread", args=[world["theirs"].uid])),
        "other_thread_posts": ("get", reverse("console:thread_posts", args=[world["theirs"].uid])),
        "post_in_own": ("post", reverse("console:post", args=[world["mine"].uid])),
        "hide_own_post": ("post", reverse("console:post_action", args=[post.uid, "pin"])),
        "inbox": ("get", reverse("console:inbox")),
        "own_member": ("get", reverse("console:member", args=[world["member"].uid])),
        "other_member": ("get", reverse("console:member", args=[world["stranger"].uid])),
        "content": ("get", reverse("console:content")),
        "content_day": ("get", reverse("console:content_day", args=[1])),
        "manage_groups": ("get", reverse("console:manage_groups")),
        "facilitators": ("get", reverse("console:facilitators")),
        "agreement": ("get", reverse("console:agreement")),
    }


#            admin supervisor facilitator researcher enumerator norole
EXPECTED = {
    "groups": [OK, OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "own_thread": [OK, OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "other_thread": [OK, OK, NOT_FOUND, OK, FORBIDDEN, FORBIDDEN],
    "other_thread_posts": [OK, OK, NOT_FOUND, OK, FORBIDDEN, FORBIDDEN],
    "post_in_own": [302, 302, 302, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "hide_own_post": [302, 302, 302, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "inbox": [OK, OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "own_member": [OK, OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "other_member": [OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "content": [OK, OK, OK, OK, OK, FORBIDDEN],
    "content_day": [OK, OK, OK, OK, OK, FORBIDDEN],
    "manage_groups": [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "facilitators": [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "agreement": [OK, OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
}


@pytest.fixture
def post(world):
    member = world["member"]
    step.handle(router.inbound_for(inbound(member.participant, "hola patas")))
    return GroupPost.objects.get()


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_each_role_on_each_page(client, people, world, post, page):
    method, url = page_urls(world, post)[page]
    data = {"text": "hola"} if method == "post" else None
    for role, expected in zip(ROLES, EXPECTED[page], strict=True):
        client.force_login(people[role])
        response = getattr(client, method)(url, data)
        assert response.status_code == expected, f"{role} on {page}"
    client.logout()
    response = getattr(client, method)(url, data)
    assert response.status_code == 302 and "/login/" in response["Location"]
