"""The plain-data context a template sees: empty fields are left out on purpose.

An absent field is undefined in the template, so ``| default(...)`` and
``{% if %}`` apply and a bare ``{{ prospect.first_name }}`` fails the render
instead of sending "Hi ,".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Fields(dict[str, Any]):
    """A namespace of merge fields that knows its name, so an error can say ``prospect.title``."""

    def __init__(self, namespace: str, fields: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self.namespace = namespace


def _present(namespace: str, fields: Mapping[str, Any]) -> Fields:
    return Fields(namespace, {k: v for k, v in fields.items()
                              if v is not None and str(v).strip() != ""})


def template_context(
    prospect: Mapping[str, Any],
    *,
    sender: Mapping[str, Any],
    account: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
    unsubscribe_url: str | None = None,
) -> dict[str, Any]:
    """The context for one prospect's email: plain dicts and strings only."""
    person = _present("prospect", prospect)
    person["custom"] = _present("prospect.custom", custom or {})
    context: dict[str, Any] = {
        "prospect": person,
        "sender": _present("sender", sender),
        "account": _present("account", account or {}),
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
