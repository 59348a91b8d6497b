"""Forms of the supervisors' pages (validation only: state changes are in `safety.actions`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patas.safety.models import Alert

TEXT_MAX = 2000


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class EscalateForm(forms.Form):
    text = forms.CharField(
        label=_("Why it is escalated"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(forms.Form):
    text = forms.CharField(
        label=_("How it was resolved"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FlagForm(forms.Form):
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Alert.Severity.choices, initial=Alert.Severity.MEDIUM
    )
    reason = forms.CharField(
        label=_("What worries you (optional)"), max_length=TEXT_MAX, required=False
    )


class FindPersonForm(forms.Form):
    ref = forms.CharField(label=_("His reference (8 characters)"), max_length=40)


class EraseForm(forms.Form):
    """The admin types his reference again: an erasure cannot be undone."""

    confirm = forms.CharField(label=_("Type his reference to confirm"), max_length=40)

    def __init__(self, *args: Any, ref: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ref = ref

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip().upper()
        if typed != self.ref.upper():
            raise forms.ValidationError(
                _("That is not his reference (%(ref)s): nothing was erased."),
                params={"ref": self.ref},
            )
        return typed
