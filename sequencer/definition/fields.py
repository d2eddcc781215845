"""The merge fields templates may use, and which of them a prospect always has."""

from __future__ import annotations

PROSPECT_FIELDS = frozenset({
    "email", "first_name", "last_name", "full_name", "title", "company", "phone",
    "linkedin_url", "city", "country", "timezone", "industry", "seniority", "department",
})
ACCOUNT_FIELDS = frozenset({"name", "domain", "industry", "size", "country"})
SENDER_FIELDS = frozenset({"name", "email", "first_name", "title", "signature", "phone",
                           "calendar_url"})
# Fields every prospect, account and sender carries; the rest are optional and need a fallback.
ALWAYS_PRESENT = {
    "prospect": frozenset({"email"}),
    "account": frozenset({"domain"}),
    "sender": frozenset({"name", "email", "first_name", "signature"}),
}
NAMESPACES = {"prospect": PROSPECT_FIELDS, "account": ACCOUNT_FIELDS, "sender": SENDER_FIELDS}
TOP_LEVEL = frozenset({*NAMESPACES, "unsubscribe_url"})
