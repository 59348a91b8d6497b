"""`patas source-link CODE --name NAME [--kind ad] --phone NUMBER [--qr DIR]`"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patas.programs.pack import get_pack
from patas.recruitment import links
from patas.recruitment.actions import create_source
from patas.recruitment.codes import prefill
from patas.recruitment.models import Source


class Command(BaseCommand):
    help = "Create (or show) a recruitment source and print its wa.me link; write QR codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("--name", default="")
        parser.add_argument("--kind", default=Source.Kind.AD, choices=list(Source.Kind.values))
        parser.add_argument("--phone", required=True, help="The program's WhatsApp number.")
        parser.add_argument("--lang", default="")
        parser.add_argument("--qr", type=Path, help="Folder for CODE.png and CODE.svg.")

    def handle(self, *args: Any, **opts: Any) -> None:
        code = opts["code"].upper()
        source = Source.objects.filter(code=code).first()
        if source is None:
            if not opts["name"]:
                raise CommandError(f"source {code} does not exist yet: give it a --name")
            source = create_source(code, opts["name"], opts["kind"], actor="cli")
        pack = get_pack()
        lang = opts["lang"] or pack.program.default_language
        link = links.wa_link(opts["phone"], prefill(source.code, pack.text("link_prefill", lang)))
        self.stdout.write(link)
        if opts["qr"]:
            opts["qr"].mkdir(parents=True, exist_ok=True)
            (opts["qr"] / f"{source.code}.png").write_bytes(links.qr_png(link))
            (opts["qr"] / f"{source.code}.svg").write_bytes(links.qr_svg(link))
            self.stdout.write(f"QR codes: {opts['qr'] / source.code}.png and .svg")
