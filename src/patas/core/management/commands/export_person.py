"""`patas export-person REF`: a participant's own data as JSON (subject access request)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.core import privacy


class Command(BaseCommand):
    help = _("Write everything held about a participant as JSON (subject access).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref", help=_("the participant's 8-character reference"))
        parser.add_argument("--out", type=Path, help=_("file to write (default: standard output)"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            participant = privacy.find_participant(options["ref"])
        except privacy.PrivacyError as exc:
            raise CommandError(str(exc)) from None
        data = privacy.export_person(participant, f"cli:{getpass.getuser()}")
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        if options["out"]:
            options["out"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text)
