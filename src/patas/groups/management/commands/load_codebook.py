from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from patas.groups.coding import CODEBOOK_FILE, load_codebook


class Command(BaseCommand):
    help = "Create or update the qualitative codebook from a YAML file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", default=str(CODEBOOK_FILE))

    def handle(self, *args: Any, **options: Any) -> None:
        count = load_codebook(Path(options["path"]))
        self.stdout.write(_("%(count)d codes loaded") % {"count": count})
