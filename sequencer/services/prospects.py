"""Prospect rows from CSV: normalising, checking, and the fields templates may use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# ASCII local parts only: sending to an internationalised one needs SMTPUTF8 end to end,
# which the transports do not offer; refusing it here names the CSV line instead of
# holding the enrollment at its first send.
EMAIL = re.compile(r"^[!#-'*+\-/-9=?A-Z^-~.]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+$")
STANDARD_COLUMNS = ("email", "first_name", "last_name", "title", "company", "phone",
                    "linkedin_url", "city", "country", "timezone", "industry", "owner", "stage")


def valid_email(address: str) -> bool:
    return bool(EMAIL.match(address.strip())) and len(address) <= 320


@dataclass
class ProspectRow:
    line: int
    email: str
    fields: dict[str, str | None]
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.email.lower()

    @property
    def domain(self) -> str:
        return self.key.rsplit("@", 1)[-1]


def read_row(line: int, raw: Mapping[str, str | None]) -> ProspectRow:
    """One CSV row: standard columns as fields, every other non-empty column as custom."""
    cleaned = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
    fields: dict[str, str | None] = {c: (cleaned.get(c) or None) for c in STANDARD_COLUMNS
                                     if c != "email"}
    if fields.get("country"):
        fields["country"] = str(fields["country"]).upper()
    custom = {k: v for k, v in cleaned.items() if k not in STANDARD_COLUMNS and v}
    return ProspectRow(line, cleaned.get("email", ""), fields, custom)
