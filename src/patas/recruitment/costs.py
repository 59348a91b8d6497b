"""The cost model: a rate card (configuration) times what patas counted (pure arithmetic).

Prices are never in code: `load_rate_card` reads the program's `rate-card.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class RateCard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    currency: str = "USD"
    country: str = Field("PE", description="Country whose WhatsApp prices apply by default.")
    whatsapp: dict[str, dict[str, float]] = Field(
        description="Country -> message category (marketing, utility, service...) -> price."
    )
    facilitator_per_hour: float = 0.0
    survey_per_interview: dict[str, float] = Field(default_factory=dict)  # mode -> price
    incentive_per_completer: float = 0.0
    fixed: dict[str, float] = Field(default_factory=dict, description="Other fixed costs.")


def load_rate_card(path: Path) -> RateCard:
    with path.open(encoding="utf-8") as handle:
        return RateCard.model_validate(yaml.safe_load(handle))


@dataclass(frozen=True)
class Counts:
    messages: dict[str, int]  # pricing category -> billable messages
    facilitator_hours: float
    interviews: dict[str, int]  # survey mode -> completed interviews
    ad_spend: float
    other_spend: float  # influencer fees and manual entries
    enrolled: int
    completed: int
    man_days: int  # days in program summed over men


@dataclass(frozen=True)
class Breakdown:
    items: dict[str, float]
    total: float
    per_enrolled: float | None
    per_completer: float | None
    per_man_day: float | None
    currency: str
    notes: list[str] = field(default_factory=list)


def _per(total: float, n: int) -> float | None:
    return round(total / n, 4) if n else None


def breakdown(card: RateCard, counts: Counts) -> Breakdown:
    prices = card.whatsapp.get(card.country, {})
    notes = []
    whatsapp = 0.0
    for category, n in counts.messages.items():
        if category not in prices:
            notes.append(f"no price for WhatsApp category {category!r} in {card.country}")
        whatsapp += n * prices.get(category, 0.0)
    surveys = sum(
        n * card.survey_per_interview.get(mode, 0.0) for mode, n in counts.interviews.items()
    )
    items = {
        "ads": counts.ad_spend,
        "influencers_and_other": counts.other_spend,
        "whatsapp": whatsapp,
        "facilitators": counts.facilitator_hours * card.facilitator_per_hour,
        "surveys": surveys,
        "incentives": counts.completed * card.incentive_per_completer,
        **{f"fixed:{k}": v for k, v in card.fixed.items()},
    }
    items = {k: round(v, 2) for k, v in items.items()}
    total = round(sum(items.values()), 2)
    return Breakdown(
        items,
        total,
        _per(total, counts.enrolled),
        _per(total, counts.completed),
        _per(total, counts.man_days),
        card.currency,
        notes,
    )


@dataclass(frozen=True)
class PerMan:
    """What one enrolled man costs in each item, measured from a running program."""

    program_messages: float  # non-relay outbound per man over the program
    group_posts_per_day: float  # group messages each man writes a day
    ad_spend: float
    facilitator_hours: float
    interviews: float
    completion_rate: float


def project(
    card: RateCard,
    per_man: PerMan,
    men: int,
    days: int,
    *,
    relay: str,
    group_size: int = 50,
    digest_hours: int = 12,
    category: str = "utility",
) -> Breakdown:
    """What `men` would cost: live relay fans every post out to the group; digest batches it."""
    if relay == "live":
        relay_per_man = per_man.group_posts_per_day * (group_size - 1) * days
    elif relay == "digest":
        relay_per_man = days * 24 / digest_hours
    else:
        raise ValueError(f"relay mode {relay!r}: expected live or digest")
    messages = round(men * (per_man.program_messages + relay_per_man))
    counts = Counts(
        messages={category: messages},
        facilitator_hours=per_man.facilitator_hours * men,
        interviews={"chat": round(per_man.interviews * men)},
        ad_spend=per_man.ad_spend * men,
        other_spend=0.0,
        enrolled=men,
        completed=round(per_man.completion_rate * men),
        man_days=men * days,
    )
    return breakdown(card, counts)
