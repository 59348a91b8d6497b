"""`patas preview-content PATH --day N --lang es`: a day as the man sees it, in the terminal."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import IO, Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console

from patas.programs.pack import PackError, load_pack
from patas.programs.preview import day_bubbles, message_bubbles, render


class Command(BaseCommand):
    # Reads files only: runs without a database or URL checks.
    requires_system_checks: list[str] = []
    help = _("Show a day of a content pack as WhatsApp bubbles.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path", nargs="?", help=_("Pack folder (default: the installed program).")
        )
        parser.add_argument("--day", type=int, help=_("Day number to show."))
        parser.add_argument("--message", help=_("A messages.yaml key to show instead."))
        parser.add_argument("--lang", help=_("Language (default: the program's)."))
        parser.add_argument("--name", default="José", help=_("Name in the opener."))
        parser.add_argument("--width", type=int, default=64, help=_("Bubble width."))

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"] or str(settings.CONTENT_DIR / settings.DEFAULT_PROGRAM)
        try:
            pack = load_pack(path)
        except PackError as exc:
            raise CommandError(
                _("the pack does not load (run lint-content):\n%(p)s")
                % {"p": "\n".join(exc.problems)}
            ) from exc
        lang = options["lang"] or pack.program.default_language
        if lang not in pack.program.languages:
            raise CommandError(
                _("language %(lang)r is not one of %(langs)s")
                % {"lang": lang, "langs": ", ".join(pack.program.languages)}
            )
        if options["message"]:
            if options["message"] not in pack.messages:
                raise CommandError(
                    _("no message %(key)r in messages.yaml") % {"key": options["message"]}
                )
            bubbles = message_bubbles(pack, options["message"], lang)
        else:
            number = options["day"]
            if number is None or number not in pack.days:
                raise CommandError(_("--day must be one of 1..%(n)d") % {"n": pack.program.days})
            bubbles = day_bubbles(pack, number, lang, name=options["name"])
        render(
            bubbles,
            Console(file=cast(IO[str], self.stdout), width=max(options["width"] + 2, 40)),
            width=options["width"],
        )
