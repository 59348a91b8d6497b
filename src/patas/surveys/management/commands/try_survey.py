"""`patas try-survey FORM [--lang es]`: run an XLSForm in the terminal as the chat runner would."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.core import clock
from patas.surveys import chat, render
from patas.surveys.form import FormError, load_form
from patas.surveys.phrases import words_for


class Command(BaseCommand):
    help = _("Run a survey form in the terminal: answers from stdin, one per line.")
    requires_system_checks: list[str] = []  # needs no database: form authors run it anywhere

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("form", help=_("an XLSForm file (.xlsx, .xls, .csv or .md)"))
        parser.add_argument("--lang", default="es", help=_("language code, e.g. es or en"))
        parser.add_argument("--words", default="", help=_("the runner's words file (runner.yaml)"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            form = load_form(Path(options["form"]))
        except FormError as exc:
            raise CommandError(str(exc)) from None
        words_path = Path(options["words"]) if options["words"] else None
        words = words_for(options["lang"], words_path)
        outcome = chat.start(form, options["lang"], words, clock.now())
        self._show(outcome)
        while not outcome.done:
            line = sys.stdin.readline()
            if line == "":
                break  # end of input: the survey stays unfinished
            event = chat.event_for(line.rstrip("\n"), "", words)
            self.stdout.write(f"> {line.rstrip()}")
            outcome = chat.step(form, outcome.state, event, words, clock.now())
            self._show(outcome)
        result = {"status": outcome.state["status"], "answers": outcome.state["answers"]}
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def _show(self, outcome: chat.Outcome) -> None:
        for payload in outcome.prompts:
            self.stdout.write(render.as_terminal_text(payload))
            self.stdout.write("")
