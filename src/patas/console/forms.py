"""Console forms (validation only: the state changes are in the owning app's actions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from patas.groups.access import FACILITATOR
from patas.groups.actions import MAX_POST_CHARS
from patas.groups.models import Code, Group


class PostForm(forms.Form):
    text = forms.CharField(
        label=_("Message"), max_length=MAX_POST_CHARS, widget=forms.Textarea(attrs={"rows": 3})
    )


class RemoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason (kept in the log)"), max_length=300)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CodeForm(forms.Form):
    code = forms.ModelChoiceField(
        label=_("Code"), queryset=Code.objects.filter(active=True), to_field_name="key"
    )


def facilitator_choices() -> Any:
    return get_user_model().objects.filter(groups__name=FACILITATOR).order_by("username")


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    facilitator: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Facilitator"), queryset=None, required=False
    )
    size_cap = forms.IntegerField(label=_("Size cap"), min_value=1, max_value=1000, initial=50)
    relay_mode = forms.ChoiceField(label=_("Relay mode"), choices=Group.RelayMode.choices)
    digest_every_hours = forms.IntegerField(
        label=_("Digest every (hours)"), min_value=1, max_value=168, initial=6
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = facilitator_choices()  # type: ignore[attr-defined]


class FacilitatorForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def clean_username(self) -> str:
        name = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username=name).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return name

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class AgreementForm(forms.Form):
    coder_a = forms.ModelChoiceField(
        label=_("Coder A"), queryset=get_user_model().objects.all(), to_field_name="username"
    )
    coder_b = forms.ModelChoiceField(
        label=_("Coder B"), queryset=get_user_model().objects.all(), to_field_name="username"
    )
