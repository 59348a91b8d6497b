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
    category: Literal["utility", "marketing", "authentication"] = Field(
        "utility", description="Meta's template category (it sets the price)."
    )
    language_codes: dict[str, str] = Field(
        description="Program language -> WhatsApp language code, e.g. es: es_PE."
    )
    body: Localized = Field(description="Body as submitted to Meta, with {{1}}-style variables.")
    button: Localized | None = Field(None, description="Quick-reply button label (max 20).")
    variables: list[str] = Field(
        default_factory=list,
        description="What each {{n}} in the body is, in order (e.g. [his name, day number]); "
        "the code passes the values in this order. Empty: the body has no variables.",
    )


class SendHours(Strict):
    morning: int = Field(8, ge=0, le=23, description="Local hour (0-23) of 'morning'.")
    midday: int = Field(13, ge=0, le=23, description="Local hour (0-23) of 'midday'.")
    evening: int = Field(19, ge=0, le=23, description="Local hour (0-23) of 'evening'.")


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
    min_age: int = Field(18, ge=0, description="Youngest eligible age, in years.")
    max_age: int = Field(60, ge=0, description="Oldest eligible age, in years.")
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
    exclude_removed: bool = Field(True, description="Men removed by staff do not complete.")
    exclude_opted_out: bool = Field(True, description="Men who left (SALIR/STOP) do not complete.")


class Reminders(Strict):
    checkin_nudge_after_hours: float = Field(
        6, gt=0, description="Nudge when the day's check-in has no answer after this long."
    )
    miss_you_after_silent_days: int = Field(
        3, ge=1, description="A 'we miss you' message after this many days without a reply."
    )
    max_per_day: int = Field(1, ge=0, description="Never more reminders than this a day.")


class Module(Strict):
    """A block of consecutive days on one subject."""

    id: str = Field(description="Stable id; each day names its module.")
    title: Localized = Field(description="Title per language (console, previews).")
    first_day: int = Field(ge=1, description="First day of the module.")
    last_day: int = Field(ge=1, description="Last day of the module (inclusive).")


class Helpline(Strict):
    """A support service offered when a message suggests risk."""

    name: str = Field(description="The service's public name, e.g. Línea 100.")
    contact: str = Field(description="Number, short code or link, as people dial or open it.")
    hours: Localized | None = Field(None, description="When it answers / what it is, per language.")


class TrialSettings(Strict):
    """The trial inside the program: baseline, assignment, endline (docs/research-guide.md)."""

    enabled: bool = Field(True, description="Consent starts the baseline, then randomisation.")
    name: str = Field("", description="Trial name (a slug); empty: the program id.")
    arms: dict[str, int] = Field(
        default_factory=lambda: {"control": 1, "treatment": 1},
        description="Arm -> weight; one arm must be `control`, the others receive the program.",
    )
    procedure: Literal["blocks"] = Field(
        "blocks", description="Sequential permuted blocks within strata, as men finish baseline."
    )
    block_sizes: list[int] = Field(
        default_factory=lambda: [2, 4],
        description="Block sizes drawn at random (multiples of the sum of the arm weights).",
    )
    strata_from: list[str] = Field(
        default_factory=list,
        description="Baseline question or intake answer names whose values form the stratum.",
    )
    baseline_form: str = Field("men_baseline", description="Form id of the men's baseline.")
    endline_form: str = Field("men_endline", description="Form id of the men's endline.")
    partner_baseline_form: str = Field(
        "partner_baseline", description="Form id of the partners' phone baseline."
    )
    partner_endline_form: str = Field(
        "partner_endline", description="Form id of the partners' phone endline."
    )
    baseline_wait_hours: float = Field(
        72, gt=0, description="Randomise a man this long after consent even without a baseline."
    )
    endline_after_days: int = Field(
        14, ge=0, description="Endline this many days after his program would have ended."
    )
    endline_reminder_hours: float = Field(
        24, gt=0, description="One reminder when he has not started the endline after this long."
    )
    control: Literal["surveys_only", "waitlist"] = Field(
        "surveys_only",
        description="What the control arm gets: nothing but the surveys, or the program after "
        "its endline (waitlist).",
    )
    seed: int = Field(description="The assignment seed (recorded with every assignment).")

    @field_validator("arms")
    @classmethod
    def _has_control(cls, value: dict[str, int]) -> dict[str, int]:
        if "control" not in value or len(value) < 2 or min(value.values()) < 1:
            raise ValueError("arms need `control` and at least one other arm, weights >= 1")
        return value


class Program(Strict):
    id: str = Field(description="Folder name and stable id, e.g. hablemos-entre-patas.")
    name: Localized = Field(description="The program's name per language.")
    version: str = Field(description="Bump when content changes; stored with each enrolment.")
    languages: list[str] = Field(min_length=1, description="Every text must exist in each.")
    default_language: str = Field(description="Used when a man's language has no text.")
    days: int = Field(ge=1, le=366, description="Program length N: day files 1..N.")
    time_zone: str = Field("America/Lima", description="IANA zone for send and quiet hours.")
    send_hours: SendHours = Field(
        default_factory=SendHours, description="The hours behind morning / midday / evening."
    )
    default_send_time: Literal["morning", "midday", "evening"] = Field(
        "evening", description="When a man who did not choose gets his day."
    )
    quiet_hours: QuietHours = Field(
        default_factory=QuietHours, description="Local hours when nothing is sent."
    )
    message_spacing_seconds: int = Field(
        60, ge=0, description="Gap between a day's messages, so they read as a conversation."
    )
    templates: dict[str, Template] = Field(
        description="Role -> template. Roles used by the engine: day_opener, reminder."
    )
    intake: Intake = Field(description="Eligibility and consent questions asked at intake.")
    completion: Completion = Field(description="The rule for who completed the program.")
    reminders: Reminders = Field(
        default_factory=Reminders, description="Nudges and 'we miss you' messages."
    )
    modules: list[Module] = Field(description="The blocks of days; together they cover 1..N.")
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
    trial: TrialSettings | None = Field(
        None, description="The randomised trial run inside the program (none: consent enrols)."
    )


class SystemMessages(BaseModel):
    """messages.yaml: key -> an Item without an id (the key is its id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    messages: dict[str, Item]
