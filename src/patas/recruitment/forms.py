"""Console forms for sources and spend (labels through gettext)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patas.recruitment.models import Source

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")


class SourceForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, label) for k, label in Source.Kind.choices if k != Source.Kind.UNKNOWN],
    )
    campaign = forms.CharField(label=_("Campaign"), max_length=200, required=False)
    ad_set = forms.CharField(label=_("Ad set"), max_length=200, required=False)
    ad_name = forms.CharField(label=_("Ad name"), max_length=200, required=False)
    ad_id = forms.CharField(label=_("Ad id (Meta)"), max_length=64, required=False)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if not CODE.match(code):
            raise forms.ValidationError(
                _("A code is 2-40 letters, digits, '-' or '_', starting with a letter or digit.")
            )
        if Source.objects.filter(code=code).exists():
            raise forms.ValidationError(_("A source with this code already exists."))
        return code


class SpendUploadForm(forms.Form):
    file = forms.FileField(label=_("Ads Manager export (CSV)"))


class ManualSpendForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Source"), queryset=Source.objects.order_by("code"))
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0)
    starts = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=300)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts") and data.get("ends") and data["ends"] < data["starts"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


class ProjectionForm(forms.Form):
    men = forms.IntegerField(label=_("Men"), min_value=1, max_value=100_000_000, initial=100_000)
