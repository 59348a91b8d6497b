"""WhatsApp webhook JSON -> channel-neutral inbound messages and status updates (pure).

We parse the dicts ourselves rather than through pywa's update types: pywa builds its types
from a live `WhatsApp` client object (`Message.from_update(client, update)`), raises on types it
does not model, and drops the raw dict. We need the opposite: no client, every message kept
(unknown types flagged, never lost), the raw message kept for storage, and a readable text for
every type for the console and triage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECT = "whatsapp_business_account"
STATUS_ORDER = ("sent", "delivered", "read")


class PayloadError(ValueError):
    """The body is JSON but not a WhatsApp Cloud API webhook payload."""


@dataclass(frozen=True)
class InboundMessage:
    wamid: str
    wa_id: str  # the phone as WhatsApp writes it (digits); "" when the user hides it
    user_id: str  # business-scoped user id (BSUID); "" when absent
    profile_name: str
    timestamp: datetime  # aware UTC
    type: str
    text: str  # readable for every type: body, button title, caption, "[location]", ...
    reply_id: str = ""  # button_reply/list_reply id, or a template button's payload
    context_wamid: str = ""  # the message this one answers (or reacts to)
    referral: dict[str, Any] | None = None  # click-to-WhatsApp ad data
    content: dict[str, Any] = field(default_factory=dict)  # the type's own object
    raw: dict[str, Any] = field(default_factory=dict)
    phone_number_id: str = ""  # our number that received it
    flags: tuple[str, ...] = ()

    @property
    def unknown_type(self) -> bool:
        return "unknown_type" in self.flags

    @property
    def sender_key(self) -> str:
        """How patas keys the man: the user id when present, else the phone."""
        return f"user:{self.user_id}" if self.user_id else f"phone:{self.wa_id}"


@dataclass(frozen=True)
class StatusError:
    code: int | None
    title: str


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str  # sent, delivered, read, failed (others are kept as given)
    timestamp: datetime
    recipient: str  # recipient_id (phone) when given
    recipient_user_id: str = ""
    errors: tuple[StatusError, ...] = ()
    pricing_category: str = ""
    billable: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    other_changes: int = 0  # changes for fields patas does not handle (e.g. template updates)

    @property
    def has_unknown(self) -> bool:
        return any(m.unknown_type for m in self.messages)


def parse(body: Any) -> Parsed:
    """Parse a decoded webhook body. Raises PayloadError naming what is wrong."""
    if not isinstance(body, dict):
        raise PayloadError("the body is not a JSON object")
    if body.get("object") != OBJECT:
        raise PayloadError(f"'object' is {body.get('object')!r}, expected {OBJECT!r}")
    entries = _list(body, "entry", "the body")
    parsed = Parsed()
    for i, entry in enumerate(entries):
        where = f"entry[{i}]"
        if not isinstance(entry, dict):
            raise PayloadError(f"{where} is not an object")
        for j, change in enumerate(_list(entry, "changes", where)):
            _parse_change(change, f"{where}.changes[{j}]", parsed)
    return parsed


def _parse_change(change: Any, where: str, parsed: Parsed) -> None:
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        raise PayloadError(f"{where} has no 'value' object")
    if change.get("field") != "messages":
        parsed.other_changes += 1
        return
    value = change["value"]
    number_id = str((value.get("metadata") or {}).get("phone_number_id", ""))
    contacts = _contacts(value.get("contacts") or [], where)
    for k, raw in enumerate(_list(value, "messages", where, required=False)):
        parsed.messages.append(_message(raw, f"{where}.messages[{k}]", contacts, number_id))
    for k, raw in enumerate(_list(value, "statuses", where, required=False)):
        parsed.statuses.append(_status(raw, f"{where}.statuses[{k}]"))


def _list(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    value = obj.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where} has no '{key}' list")
    return value


def _contacts(raw: Any, where: str) -> dict[str, dict[str, Any]]:
    """Contacts by both their wa_id and user_id, so a message finds its sender either way."""
    if not isinstance(raw, list):
        raise PayloadError(f"{where}.value.contacts is not a list")
    found: dict[str, dict[str, Any]] = {}
    for contact in raw:
        if not isinstance(contact, dict):
            continue
        for key in ("wa_id", "user_id"):
            if contact.get(key):
                found[str(contact[key])] = contact
    return found


def _timestamp(raw: dict[str, Any], where: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        # OSError: a number that fits in C but not in the platform's time_t (EOVERFLOW)
        raise PayloadError(f"{where} has no valid 'timestamp'") from None


def _message(
    raw: Any, where: str, contacts: dict[str, dict[str, Any]], number_id: str
) -> InboundMessage:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise PayloadError(f"{where} has no 'id'")
    wa_id = str(raw.get("from") or "")
    user_id = str(raw.get("from_user_id") or "")
    contact = contacts.get(user_id) or contacts.get(wa_id) or {}
    user_id = user_id or str(contact.get("user_id") or "")
    wa_id = wa_id or str(contact.get("wa_id") or "")
    if not wa_id and not user_id:
        raise PayloadError(f"{where} has neither 'from' nor 'from_user_id'")
    kind = str(raw.get("type") or "unknown")
    content = _content(raw.get(kind), kind)
    reader = _READERS.get(kind)
    flags: list[str] = []
    if reader is None:
        flags.append("unknown_type")
        text, reply_id = f"[{kind}]", ""
    else:
        text, reply_id = reader(content)
    if raw.get("errors"):
        flags.append("errors")
    context_wamid = str(_dict(raw.get("context")).get("id") or "")
    if kind == "reaction":
        context_wamid = str(content.get("message_id") or context_wamid)
    referral = _dict(raw.get("referral")) or None
    if referral:
        flags.append("referral")
    return InboundMessage(
        wamid=str(raw["id"]),
        wa_id=wa_id,
        user_id=user_id,
        profile_name=str(_dict(contact.get("profile")).get("name") or ""),
        timestamp=_timestamp(raw, where),
        type=kind,
        text=text,
        reply_id=reply_id,
        context_wamid=context_wamid,
        referral=referral,
        content=content,
        raw=raw,
        phone_number_id=number_id,
        flags=tuple(flags),
    )


def _status(raw: Any, where: str) -> StatusUpdate:
    if not isinstance(raw, dict) or not raw.get("id") or not raw.get("status"):
        raise PayloadError(f"{where} needs 'id' and 'status'")
    errors = tuple(
        StatusError(_int(e.get("code")), str(e.get("title") or e.get("message") or ""))
        for e in raw.get("errors") or []
        if isinstance(e, dict)
    )
    pricing = _dict(raw.get("pricing"))
    billable = pricing.get("billable")
    return StatusUpdate(
        wamid=str(raw["id"]),
        status=str(raw["status"]),
        timestamp=_timestamp(raw, where),
        recipient=str(raw.get("recipient_id") or ""),
        recipient_user_id=str(raw.get("recipient_user_id") or ""),
        errors=errors,
        pricing_category=str(pricing.get("category") or ""),
        billable=billable if isinstance(billable, bool) else None,
        raw=raw,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _content(value: Any, kind: str) -> dict[str, Any]:
    """The type's own object; a list (the `contacts` cards) is kept under the type's name."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {kind: value}
    return {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- readable text per message type: (text, reply id) ---------------------------------------

Reader = Callable[[dict[str, Any]], tuple[str, str]]


def _text(c: dict[str, Any]) -> tuple[str, str]:
    return str(c.get("body") or ""), ""


def _interactive(c: dict[str, Any]) -> tuple[str, str]:
    for key in ("button_reply", "list_reply"):
        reply = c.get(key)
        if isinstance(reply, dict):
            return str(reply.get("title") or ""), str(reply.get("id") or "")
    subtype = str(c.get("type") or "")
    return (f"[interactive {subtype}]" if subtype else "[interactive]"), ""


def _button(c: dict[str, Any]) -> tuple[str, str]:
    return str(c.get("text") or ""), str(c.get("payload") or "")


def _media(kind: str) -> Reader:
    def read(c: dict[str, Any]) -> tuple[str, str]:
        if c.get("caption"):
            return str(c["caption"]), ""
        if kind == "audio" and c.get("voice"):
            return "[voice note]", ""
        if kind == "document" and c.get("filename"):
            return f"[document {c['filename']}]", ""
        return f"[{kind}]", ""

    return read


def _location(c: dict[str, Any]) -> tuple[str, str]:
    label = " ".join(str(c[k]) for k in ("name", "address") if c.get(k))
    return (f"[location {label}]" if label else "[location]"), ""


def _contacts_message(c: dict[str, Any]) -> tuple[str, str]:
    cards = c.get("contacts")
    names = [
        str(_dict(card.get("name")).get("formatted_name") or "")
        for card in (cards if isinstance(cards, list) else [])
        if isinstance(card, dict)
    ]
    label = ", ".join(n for n in names if n)
    return (f"[contacts {label}]" if label else "[contacts]"), ""


def _reaction(c: dict[str, Any]) -> tuple[str, str]:
    emoji = str(c.get("emoji") or "")
    return (f"[reaction {emoji}]" if emoji else "[reaction removed]"), ""


def _unsupported(c: dict[str, Any]) -> tuple[str, str]:
    return "[unsupported]", ""


def _system(c: dict[str, Any]) -> tuple[str, str]:
    return str(c.get("body") or "[system]"), ""


_READERS: dict[str, Reader] = {
    "text": _text,
    "interactive": _interactive,
    "button": _button,
    "audio": _media("audio"),
    "image": _media("image"),
    "video": _media("video"),
    "document": _media("document"),
    "sticker": _media("sticker"),
    "location": _location,
    "contacts": _contacts_message,
    "reaction": _reaction,
    "unsupported": _unsupported,
    "system": _system,
}
