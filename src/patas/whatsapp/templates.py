"""Creating the content pack's templates on the WhatsApp Business Account, and their status.

`push` submits every (template, language) of the pack that the account does not have yet;
`status` lists each with Meta's answer (APPROVED, PENDING, REJECTED, or MISSING), so a program
never starts with a missing or rejected template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from patas.programs.schema import Program

_VARIABLE = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True)
class TemplateState:
    role: str
    name: str
    language: str
    status: str  # APPROVED / PENDING / REJECTED / MISSING / ...
    category: str


def _endpoint() -> str:
    return (
        f"{settings.WHATSAPP_API_URL}/{settings.WHATSAPP_API_VERSION}/"
        f"{settings.WHATSAPP_BUSINESS_ACCOUNT_ID}/message_templates"
    )


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.WHATSAPP_ACCESS_TOKEN}"}


def definition(
    name: str, category: str, language_code: str, body: str, button: str | None
) -> dict[str, Any]:
    """The Graph API body for one template in one language (examples for each variable)."""
    variables = sorted({int(n) for n in _VARIABLE.findall(body)})
    body_component: dict[str, Any] = {"type": "BODY", "text": body}
    if variables:
        body_component["example"] = {"body_text": [[f"ejemplo{n}" for n in variables]]}
    components: list[dict[str, Any]] = [body_component]
    if button:
        components.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": button}]})
    return {
        "name": name,
        "category": category.upper(),
        "language": language_code,
        "components": components,
    }


def wanted(program: Program) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for role, tpl in program.templates.items():
        for lang, code in tpl.language_codes.items():
            button = tpl.button.get(lang) if tpl.button else None
            out.append((role, definition(tpl.name, tpl.category, code, tpl.body[lang], button)))
    return out


async def remote(client: httpx.AsyncClient) -> dict[tuple[str, str], dict[str, Any]]:
    response = await client.get(_endpoint(), headers=_headers(), params={"limit": 1000})
    response.raise_for_status()
    return {(t["name"], t["language"]): t for t in response.json().get("data", [])}


async def status(program: Program, client: httpx.AsyncClient) -> list[TemplateState]:
    existing = await remote(client)
    return [
        TemplateState(
            role,
            d["name"],
            d["language"],
            existing.get((d["name"], d["language"]), {}).get("status", "MISSING"),
            d["category"],
        )
        for role, d in wanted(program)
    ]


async def push(program: Program, client: httpx.AsyncClient) -> list[TemplateState]:
    """Submit what is missing; returns what was submitted with Meta's first answer."""
    existing = await remote(client)
    submitted = []
    for role, d in wanted(program):
        if (d["name"], d["language"]) in existing:
            continue
        response = await client.post(_endpoint(), headers=_headers(), json=d)
        answer = response.json()
        if response.status_code >= 400:
            detail = answer.get("error", {}).get("message", response.text[:200])
            raise RuntimeError(f"template {d['name']} ({d['language']}) refused: {detail}")
        submitted.append(
            TemplateState(
                role, d["name"], d["language"], str(answer.get("status", "PENDING")), d["category"]
            )
        )
    return submitted
