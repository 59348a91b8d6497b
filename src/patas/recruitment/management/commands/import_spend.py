"""`patas import-spend FILE`: an Ads Manager CSV export, all rows or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patas.recruitment.actions import import_spend
from patas.recruitment.spend import SpendFileError


class Command(BaseCommand):
    help = "Import ad spend from a Meta Ads Manager CSV export (English or Spanish headers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        try:
            count = import_spend(path.read_bytes(), path.name, actor="cli")
        except SpendFileError as exc:
            raise CommandError(f"{path}: {exc}. Nothing was imported.") from exc
        self.stdout.write(f"imported {count} rows from {path}")
