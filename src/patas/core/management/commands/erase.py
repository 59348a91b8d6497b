"""`patas erase REF`: erase a participant's identifying data and message bodies on request."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.core import privacy


class Command(BaseCommand):
    help = _("Erase a participant (by reference): identifying data and message bodies.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref", help=_("the participant's 8-character reference"))
        parser.add_argument("--actor", default="", help=_("who asked (for the audit log)"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            participant = privacy.find_participant(options["ref"])
        except privacy.PrivacyError as exc:
            raise CommandError(str(exc)) from None
        actor = options["actor"] or f"cli:{getpass.getuser()}"
        counts = privacy.erase(participant, actor)
        self.stdout.write(
            _("Erased %(ref)s: %(counts)s") % {"ref": participant.ref, "counts": counts}
        )
