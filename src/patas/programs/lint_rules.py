"""The numbers and lists the content linter enforces (WhatsApp limits, the code's message keys)."""

from __future__ import annotations

# WhatsApp Cloud API limits, in characters (see /work/shared/reference/whatsapp.md).
LIMITS: dict[str, int] = {
    "text": 4096,
    "interactive_body": 1024,
    "caption": 1024,
    "template_body": 1024,
    "buttons": 3,
    "button_title": 20,
    "button_id": 256,
    "rows": 10,
    "row_title": 24,
    "row_description": 72,
    "list_button": 20,
}

# Template roles the code sends (program.yaml `templates`).
TEMPLATE_ROLES: tuple[str, ...] = ("day_opener", "reminder", "survey_invite")

# messages.yaml keys the code relies on -> the reply button ids it expects (empty: any type).
CONTRACT_MESSAGES: dict[str, tuple[str, ...]] = {
    "welcome": (),
    "ask_age": (),
    "ask_partner": ("yes", "no"),
    "ask_region": (),
    "ask_preferred_time": ("morning", "midday", "evening"),
    "consent": ("accept", "decline"),
    "ask_partner_number": (),
    "waiting_partner": (),
    "ineligible_closing": (),
    "declined_closing": (),
    "enrolled": (),
    "not_understood": (),
    "checkin_thanks": (),
    "checkin_nudge": (),
    "miss_you": (),
    "hour_changed": (),
    "pause_confirmation": (),
    "resume_confirmation": (),
    "program_completed": (),
    "fallback_help": (),
    "removed_closing": (),
    "opt_out_confirmation": (),
    "opt_in_confirmation": (),
    "safety_helpline": (),
    "group_welcome": (),
    "relay_line": (),
    "facilitator_line": (),
    "digest_header": (),
    "digest_more": (),
    "partner_invitation": (),
    "link_prefill": (),
}

# Keys the code sends only when the pack runs a trial (program.yaml `trial.enabled`).
TRIAL_MESSAGES: dict[str, tuple[str, ...]] = {
    "between_surveys": (),  # a man in the baseline wait or the control arm writes in
}

# The {placeholders} the code fills for each key; any other {name} would leak or raise.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "consent": frozenset({"version"}),
    "enrolled": frozenset({"start"}),
    "hour_changed": frozenset({"time"}),
    "safety_helpline": frozenset({"helplines"}),
    "group_welcome": frozenset({"pseudonym", "size"}),
    "relay_line": frozenset({"pseudonym", "text"}),
    "facilitator_line": frozenset({"text"}),
    "digest_header": frozenset({"count"}),
    "digest_more": frozenset({"count"}),
}

# Placeholders a text must show: without them the message loses its point.
MUST_SHOW: dict[str, tuple[str, ...]] = {
    "consent": ("version",),
    "safety_helpline": ("helplines",),
    "relay_line": ("text",),
    "facilitator_line": ("text",),
}

# File extensions WhatsApp accepts per media type (empty: any).
MEDIA_EXTENSIONS: dict[str, frozenset[str]] = {
    "image": frozenset({".jpg", ".jpeg", ".png"}),
    "audio": frozenset({".aac", ".amr", ".mp3", ".m4a", ".ogg", ".opus"}),
    "video": frozenset({".mp4", ".3gp"}),
    "document": frozenset(),
}
