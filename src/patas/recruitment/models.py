"""Where men come from, and what bringing them cost."""

from __future__ import annotations

from django.db import models

from patas.core import clock


class Source(models.Model):
    """A recruitment source: an ad (campaign / ad set / ad), an influencer, an invitation..."""

    class Kind(models.TextChoices):
        AD = "ad", "ad"
        INFLUENCER = "influencer", "influencer"
        INVITATION = "invitation", "invitation"
        ORGANISATION = "organisation", "partner organisation"
        UNKNOWN = "unknown", "unknown"

    code = models.CharField(max_length=40, unique=True)  # what the wa.me link pre-fills
    kind = models.CharField(max_length=14, choices=Kind.choices, default=Kind.AD)
    name = models.CharField(max_length=200)
    campaign = models.CharField(max_length=200, blank=True)
    ad_set = models.CharField(max_length=200, blank=True)
    ad_name = models.CharField(max_length=200, blank=True)
    # Meta's ad id: a click-to-WhatsApp referral's `source_id` matches it.
    ad_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Attribution(models.Model):
    """Which source brought a man, decided once from his first message."""

    class Via(models.TextChoices):
        CODE = "code", "code in the first message"
        REFERRAL = "referral", "click-to-WhatsApp referral"
        NONE = "none", "no code: unknown"

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.CASCADE, related_name="attribution"
    )
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL)
    via = models.CharField(max_length=10, choices=Via.choices)
    ctwa_clid = models.CharField(max_length=200, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.participant_id} <- {self.source_id or 'unknown'}"


class SpendEntry(models.Model):
    """Money spent on a source over a period: an Ads Manager row or a manual entry."""

    class Origin(models.TextChoices):
        ADS_MANAGER = "ads_manager", "Ads Manager export"
        MANUAL = "manual", "manual entry"

    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL)
    origin = models.CharField(max_length=12, choices=Origin.choices)
    campaign = models.CharField(max_length=200, blank=True)
    ad_set = models.CharField(max_length=200, blank=True)
    ad_name = models.CharField(max_length=200, blank=True)
    ad_id = models.CharField(max_length=64, blank=True)
    starts = models.DateField()
    ends = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    impressions = models.PositiveIntegerField(default=0)
    link_clicks = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)
    imported_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.ad_name or self.note} {self.amount} {self.currency}"
