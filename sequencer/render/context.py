"""The plain-data context a template sees: empty fields are left out on purpose.

An absent field is undefined in the template, so ``| default(...)`` and
``{% if %}`` apply and a bare ``{{ prospect.first_name }}`` fails the render
instead of sending "Hi ,".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and str(v).strip() != ""}


def template_context(
    prospect: Mapping[str, Any],
    *,
    sender: Mapping[str, Any],
    account: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
    unsubscribe_url: str | None = None,
) -> dict[str, Any]:
    """The context for one prospect's email: plain dicts and strings only."""
    person = _present(prospect)
    person["custom"] = _present(custom or {})
    context: dict[str, Any] = {
        "prospect": person,
        "sender": _present(sender),
        "account": _present(account or {}),
    }
    if unsubscribe_url:
        context["unsubscribe_url"] = unsubscribe_url
    return context


SAMPLE_SENDER = {"name": "Ana Ruiz", "first_name": "Ana", "email": "ana@example.com",
                 "title": "Account Executive", "signature": "Ana Ruiz\nAccount Executive",
                 "calendar_url": "https://cal.example.com/ana"}

SAMPLE_PROSPECTS: tuple[dict[str, Any], ...] = (
    {"email": "dana.kim@globex.example", "first_name": "Dana", "last_name": "Kim",
     "full_name": "Dana Kim", "title": "VP Sales", "company": "Globex", "phone": "+1 555 0100",
     "city": "Chicago", "country": "US", "timezone": "America/Chicago", "industry": "Software",
     "seniority": "VP", "department": "Sales", "linkedin_url": "https://linkedin.com/in/dk"},
    {"email": "info@initech.example"},  # nothing but an address: every fallback must hold
    {"email": "zoë@hooli.example", "first_name": "Zoë", "company": "Hooli & Söhne"},
)
