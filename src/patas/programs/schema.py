"""The content pack schema: what a program folder holds, field by field.

A pack is `content/<program>/`:
    program.yaml     the program (this file's `Program`)
    messages.yaml    participant-facing system texts by key (`SystemMessages`)
    days/day-NN.yaml one file per day (`Day`)
    media/           images, audio, video the days refer to
    surveys/         XLSForm instruments the program refers to

Structure is checked here (pydantic); cross-file rules (every day present once, every language
complete, WhatsApp's limits, media present, placeholders) are the linter's (`programs.lint`).
Every field has a description: `patas lint-content --schema` prints them (docs/content-guide.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A text in every language of the program: {"es": "...", "en": "..."}.
Localized = dict[str, str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Button(Strict):
    id: str = Field(description="Stable id the reply carries back (max 256 characters).")
    title: Localized = Field(description="Button label per language (max 20 characters).")


class ListRow(Strict):
    id: str = Field(description="Stable id the reply carries back.")
    title: Localized = Field(description="Row title per language (max 24 characters).")
    description: Localized | None = Field(None, description="Row description (max 72).")


MessageType = Literal["text", "image", "audio", "video", "document", "buttons", "list"]


class Item(Strict):
    """One WhatsApp message as the man receives it."""

    id: str = Field(description="Unique id within the pack (used in history and exports).")
    type: MessageType = Field("text", description="What WhatsApp shows.")
    text: Localized | None = Field(
        None, description="Body for text/buttons/list (text max 4,096; interactive body 1,024)."
    )
    file: str | None = Field(None, description="Media file, relative to the pack folder.")
    caption: Localized | None = Field(None, description="Media caption (max 1,024).")
    transcript: Localized | None = Field(
        None, description="What an audio/video says: shown in the console and exports."
    )
    expert: str | None = Field(None, description="Who speaks in an expert segment.")
    buttons: list[Button] | None = Field(None, description="Reply buttons (at most 3).")
    rows: list[ListRow] | None = Field(None, description="List rows (at most 10).")
    list_button: Localized | None = Field(None, description="Label of the list's button (max 20).")


class Challenge(Strict):
    id: str = Field(description="Unique id of the day's challenge.")
    text: Localized = Field(description="What he is asked to do today, often with his partner.")


class CheckIn(Strict):
    id: str = Field(description="Unique id of the day's check-in question.")
    text: Localized = Field(description="The question (max 1,024: it carries buttons).")
    buttons: list[Button] = Field(description="Answers as reply buttons (1 to 3).")


class Day(Strict):
    day: int = Field(ge=1, description="Day number, 1..N.")
    module: str = Field(description="Module id from program.yaml `modules`.")
    title: Localized = Field(description="Short title of the day (console, previews).")
    messages: list[Item] = Field(description="Sent in order once he opens the day.")
    challenge: Challenge = Field(description="The day's concrete challenge.")
    checkin: CheckIn | None = Field(None, description="Did he do it? Recorded per day.")
    reflection: Localized | None = Field(
        None, description="A question posted to his group for discussion."
    )


class Template(Strict):
    """A WhatsApp template the program uses (approved by Meta before the program starts)."""

    name: str = Field(description="Template name as registered with Meta.")
    category: Literal["utility", "marketing", "authentication"] = Field("utility")
    language_codes: dict[str, str] = Field(
        description="Program language -> WhatsApp language code, e.g. es: es_PE."
    )
    body: Localized = Field(description="Body as submitted to Meta, with {{1}}-style variables.")
    button: Localized | None = Field(None, description="Quick-reply button label (max 20).")


class SendHours(Strict):
    morning: int = Field(8, ge=0, le=23)
    midday: int = Field(13, ge=0, le=23)
    evening: int = Field(19, ge=0, le=23)


class QuietHours(Strict):
    start: str = Field("21:30", description="HH:MM local: nothing is sent from here...")
    end: str = Field("07:30", description="...until here (may wrap past midnight).")

    @field_validator("start", "end")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{value!r} is not a time as HH:MM")
        return value


class Intake(Strict):
    consent_version: str = Field(
        description="Shown with the consent text and stored with the answer."
    )
    min_age: int = Field(18, ge=0)
    max_age: int = Field(60, ge=0)
    require_partner: bool = Field(True, description="Must live with a partner.")
    ask_region: bool = Field(True, description="Ask his district/region.")
    partner_consent: bool = Field(
        False, description="Enrolment waits for his partner's recorded agreement."
    )
    ask_preferred_time: bool = Field(True, description="Ask morning/midday/evening.")


class Completion(Strict):
    """Who counts as completing (HEP: added, not removed, did not leave, reached the last day)."""

    min_day_reached: int = Field(description="He must reach at least this day.")
    min_checkins: int = Field(0, description="And answer at least this many check-ins.")
    exclude_removed: bool = True
    exclude_opted_out: bool = True


class Reminders(Strict):
    checkin_nudge_after_hours: float = Field(
        6, gt=0, description="Nudge when the day's check-in has no answer after this long."
    )
    miss_you_after_silent_days: int = Field(
        3, ge=1, description="A 'we miss you' message after this many days without a reply."
    )
    max_per_day: int = Field(1, ge=0, description="Never more reminders than this a day.")


class Module(Strict):
    id: str
    title: Localized
    first_day: int = Field(ge=1)
    last_day: int = Field(ge=1)


class Helpline(Strict):
    name: str
    contact: str = Field(description="Number, short code or link, as people dial or open it.")
    hours: Localized | None = None


class Program(Strict):
    id: str = Field(description="Folder name and stable id, e.g. hablemos-entre-patas.")
    name: Localized
    version: str = Field(description="Bump when content changes; stored with each enrolment.")
    languages: list[str] = Field(min_length=1, description="Every text must exist in each.")
    default_language: str
    days: int = Field(ge=1, le=366, description="Program length N: day files 1..N.")
    time_zone: str = Field("America/Lima", description="IANA zone for send and quiet hours.")
    send_hours: SendHours = Field(default_factory=SendHours)
    default_send_time: Literal["morning", "midday", "evening"] = "evening"
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    message_spacing_seconds: int = Field(
        60, ge=0, description="Gap between a day's messages, so they read as a conversation."
    )
    templates: dict[str, Template] = Field(
        description="Role -> template. Roles used by the engine: day_opener, reminder."
    )
    intake: Intake
    completion: Completion
    reminders: Reminders = Field(default_factory=Reminders)
    modules: list[Module]
    helplines: dict[str, list[Helpline]] = Field(
        default_factory=dict, description="Country code (PE) -> helplines offered on a safety hit."
    )
    surveys: dict[str, str] = Field(
        default_factory=dict, description="Role (baseline, endline...) -> XLSForm path in the pack."
    )
    partner_forbidden_words: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Words that must never appear in text sent to a partner, per language.",
    )


class SystemMessages(BaseModel):
    """messages.yaml: key -> an Item without an id (the key is its id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    messages: dict[str, Item]
