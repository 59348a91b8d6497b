"""`patas power`: minimum detectable effect and sample size; power by simulation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from patas.trials import power


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = _("Minimum detectable effect, sample size, and power by simulation.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--n", type=int, default=2710, help=_("units in total"))
        parser.add_argument("--effect", type=float, help=_("effect for sample size/simulation"))
        parser.add_argument("--sd", type=float, default=1.0)
        parser.add_argument("--share-treated", type=float, default=0.5)
        parser.add_argument("--alpha", type=float, default=0.05)
        parser.add_argument("--power", type=float, default=0.8)
        parser.add_argument("--r2", type=float, default=0.0, help=_("baseline covariates' R^2"))
        parser.add_argument("--cluster-size", type=int, default=1)
        parser.add_argument("--icc", type=float, default=0.0)
        parser.add_argument("--simulate", type=int, default=0, help=_("number of simulations"))
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **o: Any) -> None:
        common = {
            "share_treated": o["share_treated"],
            "sd": o["sd"],
            "alpha": o["alpha"],
            "power": o["power"],
            "r2": o["r2"],
            "cluster_size": o["cluster_size"],
            "icc": o["icc"],
        }
        try:
            value = power.mde(o["n"], **common)
            self.stdout.write(
                _("design effect: %(d).3f")
                % {"d": power.design_effect(o["cluster_size"], o["icc"])}
            )
            self.stdout.write(
                _("minimum detectable effect with n=%(n)d: %(m).4f (%(s).3f SD)")
                % {"n": o["n"], "m": value, "s": value / o["sd"]}
            )
            if o["effect"]:
                needed = power.sample_size(o["effect"], **common)
                self.stdout.write(
                    _("sample size for an effect of %(e)g: %(n)d") % {"e": o["effect"], "n": needed}
                )
            if o["simulate"]:
                if not o["effect"]:
                    raise ValueError(_("--simulate needs --effect (in SD units)"))
                sim = power.simulate(
                    o["n"],
                    o["effect"] / o["sd"],
                    simulations=o["simulate"],
                    seed=o["seed"],
                    alpha=o["alpha"],
                    r2=o["r2"],
                    icc=o["icc"],
                    cluster_size=o["cluster_size"] if o["cluster_size"] > 1 else 0,
                )
                self.stdout.write(
                    _("simulated power: %(p).3f (Monte Carlo SE %(se).3f, %(k)d simulations)")
                    % {"p": sim.power, "se": sim.mc_se, "k": sim.simulations}
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
