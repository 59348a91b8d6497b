"""Console pages for groups: my groups, the thread, the inbox, a member's page.

Views are thin: access is checked by `groups.access` (one function per object type), state
changes go through `groups.actions`, data comes from `console.queries`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patas.core import audit, clock
from patas.groups import access, actions
from patas.groups.actions import GroupActionError
from patas.groups.models import Code, GroupPost

from . import queries
from .forms import CodeForm, NoteForm, PostForm, RemoveForm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if access.has_role(
        request.user, access.ADMIN, access.SUPERVISOR, access.FACILITATOR, access.RESEARCHER
    ):
        return redirect("console:groups")
    return render(request, "console/home.html", {})


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    groups = access.visible_groups(request.user)
    return render(request, "console/groups.html", {"summaries": queries.group_summaries(groups)})


_ZERO = "00000000-0000-0000-0000-000000000000"


def _prefix(name: str, *rest: str) -> str:
    """The part of a URL before its uuid (thread pages build hundreds of links from it)."""
    return reverse(name, args=[_ZERO, *rest]).split(_ZERO)[0]


def _thread_context(request: HttpRequest, group: Any) -> dict[str, Any]:
    before = request.GET.get("before")
    posts, more = queries.thread(group, int(before) if before and before.isdigit() else None)
    can_act = access.has_role(request.user, access.ADMIN, access.SUPERVISOR, access.FACILITATOR)
    return {
        "group": group,
        "post_prefix": _prefix("console:post_action", "hide"),
        "member_prefix": _prefix("console:member"),
        "posts": posts,
        "more": more,
        "oldest_id": posts[0].pk if posts else None,
        "pinned": queries.pinned(group),
        "can_act": can_act,
        "codes": list(Code.objects.filter(active=True)),
    }


@login_required
def thread(request: HttpRequest, uid: str) -> HttpResponse:
    group = access.group_for_reading(request.user, uid)
    context = _thread_context(request, group)
    context["form"] = PostForm()
    return render(request, "console/thread.html", context)


@login_required
def thread_posts(request: HttpRequest, uid: str) -> HttpResponse:
    """The thread's posts only: htmx polls this every few seconds."""
    group = access.group_for_reading(request.user, uid)
    return render(request, "console/_posts.html", _thread_context(request, group))


def _back_to_thread(request: HttpRequest, group: Any) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "console/_posts.html", _thread_context(request, group))
    return redirect("console:thread", uid=group.uid)


@login_required
@require_POST
def post(request: HttpRequest, uid: str) -> HttpResponse:
    group = access.group_for_acting(request.user, uid)
    form = PostForm(request.POST)
    if form.is_valid():
        try:
            actions.post_as_facilitator(request.user, group, form.cleaned_data["text"])
            messages.success(request, _("Posted to the group."))
        except GroupActionError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("The message is empty or too long."))
    return redirect("console:thread", uid=group.uid)


POST_ACTIONS = {
    "hide": lambda user, post: actions.hide(user, post),
    "pin": lambda user, post: actions.pin(user, post, True),
    "unpin": lambda user, post: actions.pin(user, post, False),
    "approve": lambda user, post: actions.approve(user, post),
    "answered": lambda user, post: actions.mark_answered(user, post),
}


@login_required
@require_POST
def post_action(request: HttpRequest, uid: str, action: str) -> HttpResponse:
    post = access.post_for_acting(request.user, uid)
    if action not in POST_ACTIONS:
        return HttpResponse(status=404)
    try:
        POST_ACTIONS[action](request.user, post)
    except GroupActionError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(str(exc), status=400)
        messages.error(request, str(exc))
    if request.POST.get("next") == "inbox":
        return redirect("console:inbox")
    return _back_to_thread(request, post.group)


@login_required
@require_POST
def code_post(request: HttpRequest, uid: str) -> HttpResponse:
    access.require_role(
        request.user, access.ADMIN, access.SUPERVISOR, access.FACILITATOR, access.RESEARCHER
    )
    post = access.post_for_coding(request.user, uid)
    form = CodeForm(request.POST)
    if form.is_valid():
        actions.code_message(request.user, post, form.cleaned_data["code"])
    else:
        messages.error(request, _("Choose a code from the codebook."))
    return _back_to_thread(request, post.group)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    access.require_role(request.user, access.ADMIN, access.SUPERVISOR, access.FACILITATOR)
    groups = access.visible_groups(request.user)
    return render(
        request, "console/inbox.html", {"items": queries.inbox(groups), "now": clock.now()}
    )


@login_required
def member(request: HttpRequest, uid: str) -> HttpResponse:
    membership = access.membership_for_staff(request.user, uid)
    show_phone = access.can_see_phones(request.user)
    if show_phone:
        audit.record(
            audit.actor_for(request.user), "participant.view_phone", membership.participant
        )
    return render(
        request,
        "console/member.html",
        {
            "page": queries.member_page(membership),
            "show_phone": show_phone,
            "reply_form": PostForm(),
            "note_form": NoteForm(),
            "remove_form": RemoveForm(),
        },
    )


def _member_redirect(membership: Any) -> HttpResponse:
    return redirect(reverse("console:member", kwargs={"uid": membership.uid}))


@login_required
@require_POST
def reply(request: HttpRequest, uid: str) -> HttpResponse:
    """A private reply to one man (optionally answering one of his posts)."""
    membership = access.membership_for_staff(request.user, uid)
    form = PostForm(request.POST)
    answered = None
    if request.POST.get("post"):
        answered = GroupPost.objects.filter(uid=request.POST["post"], author=membership).first()
    if form.is_valid():
        try:
            actions.reply_privately(
                request.user, membership, form.cleaned_data["text"], in_reply_to=answered
            )
            messages.success(request, _("Private reply queued."))
        except GroupActionError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("The message is empty or too long."))
    if request.POST.get("next") == "inbox":
        return redirect("console:inbox")
    return _member_redirect(membership)


@login_required
@require_POST
def note(request: HttpRequest, uid: str) -> HttpResponse:
    membership = access.membership_for_staff(request.user, uid)
    form = NoteForm(request.POST)
    if form.is_valid():
        actions.add_note(request.user, membership, form.cleaned_data["text"])
    return _member_redirect(membership)


@login_required
@require_POST
def remove(request: HttpRequest, uid: str) -> HttpResponse:
    membership = access.membership_for_staff(request.user, uid)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A removal needs a reason."))
        return _member_redirect(membership)
    try:
        actions.remove_member(request.user, membership, form.cleaned_data["reason"])
        messages.success(request, _("He was removed from the group."))
    except GroupActionError as exc:
        messages.error(request, str(exc))
    return _member_redirect(membership)
