"""Synthetic men (and their partners) with plausible behaviour, drawn from a seed.

Everything here is pure: a `Population` is a list of `SyntheticMan` made by `draw_population`.
The rates are rough figures in the spirit of the pilot (two in three completed; replies decay
over the month) and can be changed with `Rates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

SOURCES = [
    # (source code in the wa.me link, share of arrivals)
    ("FB-A1", 0.35),
    ("FB-A2", 0.25),
    ("IG-B1", 0.15),
    ("INFL-PEPE", 0.15),
    ("", 0.10),  # no code: typed the number or got it from a friend
]
REGIONS = ["Lima", "Callao", "Arequipa", "Trujillo", "Chiclayo", "Piura", "Cusco", "Huancayo"]
SLOTS = ["morning", "midday", "evening"]


@dataclass(frozen=True)
class Rates:
    eligible: float = 0.85  # lives with a partner and is 18-60
    consent: float = 0.9
    reply_start: float = 0.85  # chance he taps the day's opener on day 1
    reply_end: float = 0.45  # ... on the last day (linear decay in between)
    checkin_given_open: float = 0.8
    group_post: float = 0.12  # chance of a group message on a day he opened
    pause: float = 0.03
    opt_out: float = 0.04  # over the whole program
    disclosure: float = 0.01  # a safety disclosure at some point
    survey_response_treated: float = 0.85
    survey_response_control: float = 0.8
    in_words: float = 0.15  # answers numbers in words


@dataclass
class SyntheticMan:
    index: int
    phone: str
    name: str
    arrives_at: datetime
    source: str
    age: int
    lives_with_partner: bool
    region: str
    slot: str
    consents: bool
    engagement: float  # a personal multiplier on reply chances
    opt_out_day: int | None
    pause_day: int | None
    disclosure_day: int | None
    # Latent outcomes in SD units before the program; the trial adds the true effect if treated.
    latent: dict[str, float] = field(default_factory=dict)
    language: str = "es"

    @property
    def eligible(self) -> bool:
        return 18 <= self.age <= 60 and self.lives_with_partner


FIRST_NAMES = [
    "Juan",
    "Luis",
    "Carlos",
    "José",
    "Jorge",
    "Miguel",
    "Pedro",
    "César",
    "Víctor",
    "Raúl",
    "Julio",
    "Óscar",
    "Manuel",
    "Walter",
    "Edwin",
    "Percy",
    "Wilmer",
    "Henry",
]
LAST_NAMES = [
    "Quispe",
    "Flores",
    "Huamán",
    "Mamani",
    "Rojas",
    "Sánchez",
    "García",
    "Díaz",
    "Chávez",
    "Ramos",
    "Vásquez",
    "Torres",
    "Castillo",
    "Mendoza",
    "Gutiérrez",
]
OUTCOMES = ["communication", "decisions", "consent", "violence"]


def draw_population(
    n: int,
    seed: int,
    start: datetime,
    recruit_days: int,
    program_days: int,
    rates: Rates | None = None,
) -> list[SyntheticMan]:
    rates = rates or Rates()
    rng = np.random.default_rng(seed)
    codes = [code for code, _ in SOURCES]
    shares = np.array([share for _, share in SOURCES])
    men = []
    for i in range(n):
        offset = float(rng.uniform(0, max(recruit_days, 1) * 86400))
        eligible_draw = rng.random() < rates.eligible
        men.append(
            SyntheticMan(
                index=i,
                phone=f"519{seed % 100:02d}{i:06d}",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                arrives_at=start + timedelta(seconds=offset),
                source=str(rng.choice(codes, p=shares / shares.sum())),
                age=int(rng.integers(18, 61)) if eligible_draw else int(rng.choice([16, 17, 64])),
                lives_with_partner=bool(eligible_draw or rng.random() < 0.5),
                region=str(rng.choice(REGIONS)),
                slot=str(rng.choice(SLOTS, p=[0.25, 0.2, 0.55])),
                consents=bool(rng.random() < rates.consent),
                engagement=float(np.clip(rng.normal(1.0, 0.25), 0.3, 1.5)),
                opt_out_day=_maybe_day(rng, rates.opt_out, program_days),
                pause_day=_maybe_day(rng, rates.pause, program_days - 3),
                disclosure_day=_maybe_day(rng, rates.disclosure, program_days),
                latent={name: float(rng.normal()) for name in OUTCOMES},
            )
        )
    men.sort(key=lambda m: m.arrives_at)
    return men


def _maybe_day(rng: np.random.Generator, chance: float, days: int) -> int | None:
    return int(rng.integers(2, max(days, 3))) if rng.random() < chance else None


def reply_chance(man: SyntheticMan, day: int, days: int, rates: Rates) -> float:
    """His chance of opening day `day`: decays linearly over the program, scaled by engagement."""
    frac = (day - 1) / max(days - 1, 1)
    base = rates.reply_start + (rates.reply_end - rates.reply_start) * frac
    return float(np.clip(base * man.engagement, 0.02, 0.98))
