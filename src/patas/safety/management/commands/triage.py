"""`patas triage "text" ...`: what the lexicon says about a message (to try a lexicon edit).

patas triage "me kiero matarrr"        normalised forms and hits, one message per argument
patas triage --check                   load every lexicon file and report problems (exit 1)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.safety.triage import LexiconError, lexicon_dirs, load


class Command(BaseCommand):
    help = _("Show how the triage lexicon reads a message, or check the lexicon files.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("texts", nargs="*", help=_("messages to try"))
        parser.add_argument("--check", action="store_true", help=_("only load and validate"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lexicons = load(lexicon_dirs())
        except LexiconError as exc:
            raise CommandError(str(exc)) from None
        rules = sum(len(lexicon.rules) for lexicon in lexicons)
        self.stdout.write(
            _("%(n)d lexicons, %(rules)d phrases, from %(dirs)s")
            % {"n": len(lexicons), "rules": rules, "dirs": ", ".join(map(str, lexicon_dirs()))}
        )
        for text in [] if options["check"] else options["texts"]:
            self.stdout.write(f"\n{text}")
            for lexicon in lexicons:
                self.stdout.write(f"  [{lexicon.language}] {lexicon.normalise(text)}")
                for hit in lexicon.match(text):
                    self.stdout.write(
                        f"    {hit.severity:<6} {hit.category:<18} {hit.phrase!r} "
                        f"-> {hit.matched!r}"
                    )
