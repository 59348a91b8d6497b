"""`patas rotate-key`: re-encrypt every encrypted column under the newest PATAS_FIELD_KEY key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from patas.core import privacy


class Command(BaseCommand):
    help = _("Re-encrypt identifying fields under the first key of PATAS_FIELD_KEY.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = privacy.rotate_keys()
        for column, rows in counts.items():
            self.stdout.write(f"{column}: {rows}")
        self.stdout.write(_("Done: %(n)d values re-encrypted.") % {"n": sum(counts.values())})
