"""A partner's survey session read for an enumerator's entry, compiled once (core.prepared).

Every entry of the call screen reads her session locked, with its form record (not the blob):
what `select_related("form").defer("form__source").select_for_update().get()` reads, without
building that query each time.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from patas.core.prepared import Prepared
from patas.surveys.models import PartnerSurveySession, SurveyForm

CALL_FIELDS = tuple(f.attname for f in PartnerSurveySession._meta.concrete_fields)
FORM_FIELDS = ("id", "form_id", "version", "file_name", "sha256")
_LOCKED_CALL = Prepared(
    lambda pk: (
        PartnerSurveySession.objects.select_for_update(of=("self",))
        .filter(pk=pk)
        .values_list(*CALL_FIELDS, *(f"form__{name}" for name in FORM_FIELDS))
    )
)


def locked_call(pk: int) -> PartnerSurveySession:
    rows = _LOCKED_CALL(pk=pk)
    if not rows:
        raise PartnerSurveySession.DoesNotExist(f"no partner survey session {pk}")
    split = len(CALL_FIELDS)
    session = PartnerSurveySession.from_db(DEFAULT_DB_ALIAS, CALL_FIELDS, rows[0][:split])
    form = SurveyForm.from_db(DEFAULT_DB_ALIAS, FORM_FIELDS, rows[0][split:])
    PartnerSurveySession.form.field.set_cached_value(session, form)
    return session
