"""Django admin for the groups app (the console's own pages cover daily work)."""

from __future__ import annotations

from django.contrib import admin

from .models import Code, CodeAssignment, Group, GroupPost, MemberNote, Membership


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "facilitator", "relay_mode", "size_cap", "created_at"]
    list_filter = ["relay_mode", "program"]
    search_fields = ["name"]
    readonly_fields = ["uid", "last_seq", "digested_seq"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    # The participant is shown by reference only: phone and name stay out of this list.
    list_display = ["pseudonym", "group", "joined_at", "left_at", "removed_reason"]
    list_filter = ["group"]
    search_fields = ["pseudonym"]
    raw_id_fields = ["participant"]
    readonly_fields = ["uid", "seen_seq"]


@admin.register(GroupPost)
class GroupPostAdmin(admin.ModelAdmin):
    list_display = ["group", "author", "status", "pinned", "created_at"]
    list_filter = ["status", "pinned", "group"]
    raw_id_fields = ["message", "author", "private_to", "in_reply_to"]
    readonly_fields = ["uid", "seq"]


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "active"]
    list_editable = ["active"]


admin.site.register(CodeAssignment)
admin.site.register(MemberNote)
