from __future__ import annotations

import csv
import sys
from typing import Any

from django.core.management.base import BaseCommand

from patas.groups.coding import export_rows

FIELDS = ["group", "post", "author", "at", "text", "code", "coder"]


class Command(BaseCommand):
    help = "Write coded group posts (de-identified) as CSV to standard output."

    def handle(self, *args: Any, **options: Any) -> None:
        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
        writer.writeheader()
        for row in export_rows():
            writer.writerow(row)
