"""`patas lint-content PATH`: check a content pack; exit 0 when valid, else 1."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import IO, Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from patas.programs.lint import run
from patas.programs.schema_doc import field_table


class Command(BaseCommand):
    # Reads files only: runs without a database or URL checks.
    requires_system_checks: list[str] = []
    help = _("Check a content pack: one line per problem as file:line: key.path: what is wrong.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path", nargs="?", help=_("Pack folder (default: the installed default program).")
        )
        parser.add_argument(
            "--schema", action="store_true", help=_("Print every field of the pack schema instead.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schema"]:
            self.stdout.write(field_table())
            return
        path = options["path"] or str(settings.CONTENT_DIR / settings.DEFAULT_PROGRAM)
        status = run(path, cast(IO[str], self.stdout))
        if status:
            sys.exit(status)
