"""Rows an enumerator's entry reads, compiled once (core.prepared).

Every entry of the call screen reads its call and her session locked, with the session's form
record (not the blob) and whether she has consented: what
`select_related("partner", "form").defer(...).select_for_update().get()` reads, without
building that query each time.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from patas.core.prepared import Prepared
from patas.surveys.models import CallAttempt, Partner, PartnerSurveySession, SurveyForm

CALL_FIELDS = tuple(f.attname for f in PartnerSurveySession._meta.concrete_fields)
FORM_FIELDS = ("id", "form_id", "version", "file_name", "sha256")
PARTNER_FIELDS = ("id", "consent_answer")  # the rest of her row (her number) stays unread
ATTEMPT_FIELDS = tuple(f.attname for f in CallAttempt._meta.concrete_fields)
_LOCKED_CALL = Prepared(
    lambda pk: (
        PartnerSurveySession.objects.select_for_update(of=("self",))
        .filter(pk=pk)
        .values_list(
            *CALL_FIELDS,
            *(f"form__{name}" for name in FORM_FIELDS),
            *(f"partner__{name}" for name in PARTNER_FIELDS),
        )
    )
)
_LOCKED_ATTEMPT = Prepared(
    lambda pk: CallAttempt.objects.select_for_update().filter(pk=pk).values_list(*ATTEMPT_FIELDS)
)


def locked_call(pk: int) -> PartnerSurveySession:
    """Her survey session, locked, with its form record and her consent."""
    rows = _LOCKED_CALL(pk=pk)
    if not rows:
        raise PartnerSurveySession.DoesNotExist(f"no partner survey session {pk}")
    row = rows[0]
    ends = len(CALL_FIELDS), len(CALL_FIELDS) + len(FORM_FIELDS)
    session = PartnerSurveySession.from_db(DEFAULT_DB_ALIAS, CALL_FIELDS, row[: ends[0]])
    form = SurveyForm.from_db(DEFAULT_DB_ALIAS, FORM_FIELDS, row[ends[0] : ends[1]])
    partner = Partner.from_db(DEFAULT_DB_ALIAS, PARTNER_FIELDS, row[ends[1] :])
    PartnerSurveySession.form.field.set_cached_value(session, form)
    PartnerSurveySession.partner.field.set_cached_value(session, partner)
    return session


def locked_attempt(pk: int) -> CallAttempt:
    rows = _LOCKED_ATTEMPT(pk=pk)
    if not rows:
        raise CallAttempt.DoesNotExist(f"no call attempt {pk}")
    return CallAttempt.from_db(DEFAULT_DB_ALIAS, ATTEMPT_FIELDS, rows[0])
