"""State changes of recruitment, each audited."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction

from patas.core import audit
from patas.participants.models import Participant
from patas.recruitment.codes import Clue
from patas.recruitment.models import Attribution, Source, SpendEntry
from patas.recruitment.spend import parse_spend


def create_source(
    code: str, name: str, kind: str = Source.Kind.AD, actor: str = audit.SYSTEM, **fields: str
) -> Source:
    source = Source.objects.create(code=code.upper(), name=name, kind=kind, **fields)
    audit.record(actor, "recruitment.source_created", source, code=source.code)
    return source


def attribute(participant: Participant, clue: Clue) -> Attribution:
    """Attribute a man to his source once; an unknown code still enrols, as 'unknown'."""
    source = None
    via = Attribution.Via.NONE
    if clue.ad_id:
        source = Source.objects.filter(ad_id=clue.ad_id).first()
        via = Attribution.Via.REFERRAL
        if source is None:  # an ad we had not registered: keep it, named by its id
            source = Source.objects.create(
                code=f"AD-{clue.ad_id}"[:40],
                name=clue.headline or f"ad {clue.ad_id}",
                ad_id=clue.ad_id,
            )
    elif clue.code:
        source = Source.objects.filter(code=clue.code).first()
        via = Attribution.Via.CODE if source else Attribution.Via.NONE
    attribution, _ = Attribution.objects.get_or_create(
        participant=participant,
        defaults={
            "source": source,
            "via": via,
            "ctwa_clid": clue.ctwa_clid,
            "headline": clue.headline,
        },
    )
    audit.record(
        audit.SYSTEM,
        "recruitment.attributed",
        participant,
        source=source.code if source else "unknown",
        via=via,
    )
    return attribution


@transaction.atomic
def import_spend(data: bytes, filename: str, actor: str = audit.SYSTEM) -> int:
    """Import an Ads Manager CSV: all rows or, on any problem, none (SpendFileError)."""
    rows = parse_spend(data)
    by_ad_id = {s.ad_id: s for s in Source.objects.exclude(ad_id="")}
    by_name = {s.ad_name: s for s in Source.objects.exclude(ad_name="")}
    entries = [
        SpendEntry(
            source=by_ad_id.get(row.ad_id) or by_name.get(row.ad_name),
            origin=SpendEntry.Origin.ADS_MANAGER,
            campaign=row.campaign,
            ad_set=row.ad_set,
            ad_name=row.ad_name,
            ad_id=row.ad_id,
            starts=row.starts,
            ends=row.ends,
            amount=row.amount,
            currency=row.currency,
            impressions=row.impressions,
            link_clicks=row.link_clicks,
        )
        for row in rows
    ]
    SpendEntry.objects.bulk_create(entries)
    audit.record(
        actor,
        "recruitment.spend_imported",
        object_type="recruitment.spendentry",
        object_id=filename[:64],
        rows=len(entries),
        total=str(sum((e.amount for e in entries), Decimal(0))),
    )
    return len(entries)


def add_manual_spend(
    source: Source,
    amount: Decimal,
    starts,
    ends,
    note: str,  # type: ignore[no-untyped-def]
    actor: str = audit.SYSTEM,
) -> SpendEntry:
    """An influencer fee or any cost that does not come from Ads Manager."""
    entry = SpendEntry.objects.create(
        source=source,
        origin=SpendEntry.Origin.MANUAL,
        starts=starts,
        ends=ends,
        amount=amount,
        currency=getattr(settings, "PATAS_CURRENCY", "USD"),
        note=note[:300],
    )
    audit.record(actor, "recruitment.spend_added", entry, amount=str(amount), note=note[:100])
    return entry
