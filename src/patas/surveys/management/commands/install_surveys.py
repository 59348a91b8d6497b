"""`patas install-surveys [DIR]`: check and install every XLSForm of the content pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.surveys import actions
from patas.surveys.form import FormError


class Command(BaseCommand):
    help = _("Check and install the survey forms of a folder (default: the program's surveys).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", nargs="?", default="", help=_("folder of XLSForm files"))

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["folder"]) if options["folder"] else actions.surveys_dir()
        paths = sorted(p for p in folder.iterdir() if p.suffix in actions.FORM_SUFFIXES)
        if not paths:
            raise CommandError(_("no survey forms in %(folder)s") % {"folder": folder})
        for path in paths:
            try:
                record = actions.install_form(path)
            except FormError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{record.form_id} {record.version} ({record.audience}): {path.name}")
