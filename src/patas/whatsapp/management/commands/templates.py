"""`patas templates push|status [--program ID]`"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.programs.pack import get_pack
from patas.whatsapp import templates


class Command(BaseCommand):
    help = "Create the content pack's WhatsApp templates, or report their approval status."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["push", "status"])
        parser.add_argument("--program", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        program = get_pack(opts["program"]).program
        run = templates.push if opts["action"] == "push" else templates.status
        try:
            states = asyncio.run(self._run(run, program))
        except (httpx.HTTPError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
        for s in states:
            self.stdout.write(f"{s.status:<9} {s.name} {s.language} ({s.role}, {s.category})")
        if opts["action"] == "push":
            self.stdout.write(_("%(n)d templates submitted") % {"n": len(states)})
        elif any(s.status != "APPROVED" for s in states):
            raise CommandError(_("some templates are not approved: the program cannot start"))

    async def _run(self, run: Any, program: Any) -> list[templates.TemplateState]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await run(program, client)
