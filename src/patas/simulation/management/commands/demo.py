"""`patas demo [--men N] [--no-serve]`: simulate a program, then serve the console on it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from patas.core.access import ensure_roles
from patas.participants.models import Participant
from patas.simulation.management.commands.simulate import run_simulation, show

ROLES = ["admin", "supervisor", "facilitator", "enumerator", "researcher"]


class Command(BaseCommand):
    help = _("Run a one-minute simulation into the data dir and serve the console on it.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--men", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help=_("stop after the simulation"))

    def handle(self, *args: Any, **opts: Any) -> None:
        console = Console()
        call_command("migrate", verbosity=0, interactive=False)
        if Participant.objects.filter(is_synthetic=False).exists():
            raise CommandError(
                _("this data dir holds a real program: run the demo with another PATAS_DATA_DIR")
            )
        call_command("flush", verbosity=0, interactive=False)  # a fresh demo every time
        out = Path(settings.DATA_DIR) / "demo"
        console.print(_("Simulating %(n)d men through the whole program...") % {"n": opts["men"]})
        summary = run_simulation(
            {
                "men": opts["men"],
                "days": 30,
                "seed": opts["seed"],
                "effect": 0.3,
                "recruit_days": 7,
                "program": None,
                "out": out,
            }
        )
        show(summary, console)
        users = demo_users()
        table = Table(title=_("Demo logins (this local demo only)"))
        for column in (_("role"), _("user"), _("password")):
            table.add_column(column)
        for role, (user, password) in users.items():
            table.add_row(role, user, password)
        console.print(table)
        if opts["no_serve"]:
            return
        console.print(
            _("Console: http://%(host)s:%(port)d/  (Ctrl+C to stop)")
            % {"host": opts["host"], "port": opts["port"]}
        )
        call_command("serve", host=opts["host"], port=opts["port"])


def start_fake_cloud_api(host: str, port: int) -> subprocess.Popen[bytes] | None:
    """Unless a real API is configured, the demo's worker sends to a local fake Cloud API:
    nothing leaves this machine, and the fake's status callbacks come back to the webhook."""
    if "PATAS_WHATSAPP_API_URL" in os.environ:
        return None
    fake_port = port + 1
    fake = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [
            sys.executable,
            "-m",
            "patas",
            "fake-whatsapp",
            "--host",
            "127.0.0.1",
            "--port",
            str(fake_port),
            "--webhook",
            f"http://{host}:{port}/webhooks/whatsapp",
            "--app-secret",
            settings.WHATSAPP_APP_SECRET,
        ]
    )
    url = f"http://127.0.0.1:{fake_port}"
    os.environ["PATAS_WHATSAPP_API_URL"] = url  # the worker child reads it
    settings.WHATSAPP_API_URL = url
    return fake


def demo_users() -> dict[str, tuple[str, str]]:
    """One user per role, with a fresh random password each run."""
    ensure_roles()
    users = {}
    model = get_user_model()
    for role in ROLES:
        name = f"{role}.demo"
        password = secrets.token_urlsafe(9)
        user, _created = model.objects.get_or_create(username=name)
        user.set_password(password)
        user.is_staff = role == "admin"
        user.is_superuser = role == "admin"
        user.save()
        user.groups.add(Group.objects.get(name=role))
        users[role] = (name, password)
    _give_groups_to_the_demo_facilitator(
        model.objects.get(username="admin.demo"), model.objects.get(username="facilitator.demo")
    )
    return users


def _give_groups_to_the_demo_facilitator(admin: Any, facilitator: Any) -> None:
    """The simulated groups have no facilitator yet: the demo's facilitator takes them all."""
    from patas.groups.actions import update_group
    from patas.groups.models import Group as ProgramGroup

    for group in ProgramGroup.objects.filter(facilitator__isnull=True):
        update_group(admin, group, facilitator=facilitator)
