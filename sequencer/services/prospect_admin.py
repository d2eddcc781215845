"""Prospects one at a time and in bulk: create, read, update, import (API and CLI alike).

The checks are the CSV enrollment's (``prospects.valid_email``, an IANA zone, a
country the holiday calendars know); an import creates or updates by email and
answers per row, so a bad row never aborts the good ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sequencer.calendars import country_exists
from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.services.prospects import STANDARD_COLUMNS, ProspectRow, read_row, valid_email
from sequencer.store.models import Prospect
from sequencer.validation import zone_exists

EDITABLE = tuple(c for c in STANDARD_COLUMNS if c != "email")
MAX_IMPORT = 1000
# Column widths of the prospects table: longer values are refused by name, not truncated.
WIDTHS = {"first_name": 120, "last_name": 120, "title": 200, "company": 200, "phone": 60,
          "linkedin_url": 500, "city": 120, "country": 3, "timezone": 64, "industry": 120,
          "owner": 120, "stage": 60}


@dataclass(frozen=True, slots=True)
class ProspectView:
    id: int
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    company: str | None
    phone: str | None
    linkedin_url: str | None
    city: str | None
    country: str | None
    timezone: str | None
    industry: str | None
    owner: str | None
    stage: str | None
    do_not_contact: bool
    custom: dict[str, Any]
    created_at: datetime


class ProspectExists(InputError):
    """The email belongs to a known prospect (``existing_id``)."""

    def __init__(self, email: str, existing_id: int) -> None:
        super().__init__(f"a prospect with the email {email} exists already "
                         f"(prospect #{existing_id})")
        self.existing_id = existing_id


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    line: int  # the CSV line, or the item's index in a JSON list
    email: str
    outcome: str  # created, updated, refused
    prospect_id: int | None = None
    reason: str | None = None


def problem_of(field: str, value: str | None) -> str | None:
    """Why ``value`` cannot be the prospect's ``field``, or None when it can."""
    if field == "email":
        return None if value and valid_email(value) else f"{value!r} is not an email address"
    if value is None:
        return None
    unstorable = storage_problem_of(field, value)
    if unstorable is not None:
        return unstorable
    if field == "timezone" and not zone_exists(value):
        return f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
    if field == "country" and not country_exists(value):
        return f"unknown country {value!r} (use an ISO 3166 code like FR)"
    return None


def storage_problem_of(field: str, value: str) -> str | None:
    """What the store would refuse in ``value``: a NUL character, or more than the
    column holds (PostgreSQL refuses both, and would fail the whole batch)."""
    if "\x00" in value:
        return "contains a NUL character"
    if len(value) > WIDTHS.get(field, 10_000):
        return f"longer than {WIDTHS[field]} characters"
    return None


def storage_problem(row: ProspectRow) -> str | None:
    """The first field of the row the store would refuse, named, or None."""
    for name, value in row.fields.items():
        found = storage_problem_of(name, value) if value is not None else None
        if found is not None:
            return f"{name}: {found}"
    return custom_problem(row.custom)


def row_problem(row: ProspectRow) -> str | None:
    """The first problem of a row, naming its field, or None."""
    for name, value in (("email", row.email), *row.fields.items()):
        found = problem_of(name, value)
        if found is not None:
            return f"{name}: {found}"
    return custom_problem(row.custom)


def custom_problem(custom: Mapping[str, Any]) -> str | None:
    """Why these custom fields cannot be stored (a NUL character: JSON columns refuse it)."""
    if has_nul(custom):
        return "custom: contains a NUL character"
    return None


def has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def view(p: Prospect) -> ProspectView:
    return ProspectView(p.id, p.email, p.first_name, p.last_name, p.title, p.company, p.phone,
                        p.linkedin_url, p.city, p.country, p.timezone, p.industry, p.owner,
                        p.stage, p.do_not_contact, dict(p.custom or {}), p.created_at)


def create_prospect(app: App, row: ProspectRow, *, do_not_contact: bool = False
                    ) -> ProspectView:
    """Store a new prospect.

    Raises:
        InputError: a field is not valid (named).
        ProspectExists: the email is known.
    """
    problem = row_problem(row)
    if problem is not None:
        raise InputError(problem)
    try:
        with app.sessions.begin() as session:
            known = _by_key(session, [row.key])
            if row.key in known:
                raise ProspectExists(known[row.key].email, known[row.key].id)
            prospect = _new(row, app.clock.now(), do_not_contact)
            session.add(prospect)
            session.flush()
            return view(prospect)
    except IntegrityError:  # created by someone else between our look and our insert
        with app.sessions() as session:
            found = _by_key(session, [row.key])[row.key]
            raise ProspectExists(found.email, found.id) from None


def get_prospect(app: App, prospect_id: int) -> ProspectView | None:
    with app.sessions() as session:
        found = session.get(Prospect, prospect_id)
        return view(found) if found is not None else None


def list_prospects(app: App, *, limit: int, after: int | None = None,
                   email: str | None = None, owner: str | None = None,
                   stage: str | None = None, company: str | None = None
                   ) -> list[ProspectView]:
    """Up to ``limit`` prospects with ids above ``after``, by id; filters match exactly
    (the email case-insensitively)."""
    query = select(Prospect).order_by(Prospect.id).limit(limit)
    if after is not None:
        query = query.where(Prospect.id > after)
    if email:
        query = query.where(Prospect.email_key == email.strip().lower())
    if owner:
        query = query.where(Prospect.owner == owner)
    if stage:
        query = query.where(Prospect.stage == stage)
    if company:
        query = query.where(Prospect.company == company)
    with app.sessions() as session:
        return [view(p) for p in session.scalars(query)]


def update_prospect(app: App, prospect_id: int, changes: Mapping[str, Any]
                    ) -> ProspectView | None:
    """Change the fields in ``changes`` (None clears one); ``custom`` merges key by key
    (a None value removes the key); ``do_not_contact`` sets the flag. None: no such
    prospect.

    Raises:
        InputError: an unknown or invalid field (named).
    """
    for name, value in changes.items():
        if name in EDITABLE:
            problem = problem_of(name, _normal(name, value))
            if problem is not None:
                raise InputError(f"{name}: {problem}")
        elif name == "custom":
            problem = custom_problem(value or {})
            if problem is not None:
                raise InputError(problem)
        elif name != "do_not_contact":
            raise InputError(f"{name}: not a field of a prospect that can be changed")
    with app.sessions.begin() as session:
        prospect = session.get(Prospect, prospect_id)
        if prospect is None:
            return None
        _apply(prospect, changes)
        session.flush()
        return view(prospect)


def import_prospects(app: App, rows: Sequence[ProspectRow]) -> list[ImportOutcome]:
    """Create or update each row's prospect by email, in one transaction; one outcome
    per row, in order. Fields a row leaves empty are kept; custom fields merge."""
    out: dict[int, ImportOutcome] = {}
    good: list[tuple[int, ProspectRow]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        problem = row_problem(row)
        if problem is None and row.key in seen:
            problem = f"{row.email} appears earlier in this import"
        if problem is not None:
            out[index] = ImportOutcome(row.line, row.email, "refused", reason=problem)
            continue
        seen.add(row.key)
        good.append((index, row))
    now = app.clock.now()
    with app.sessions.begin() as session:
        known = _by_key(session, [row.key for _, row in good])
        created: list[tuple[int, ProspectRow, Prospect]] = []
        for index, row in good:
            found = known.get(row.key)
            if found is None:
                prospect = _new(row, now, False)
                session.add(prospect)
                created.append((index, row, prospect))
                continue
            _apply(found, {**{k: v for k, v in row.fields.items() if v is not None},
                           "custom": row.custom})
            out[index] = ImportOutcome(row.line, found.email, "updated", found.id)
        session.flush()
        for index, row, prospect in created:
            out[index] = ImportOutcome(row.line, row.email, "created", prospect.id)
    return [out[i] for i in range(len(rows))]


def rows_from_csv(text: str) -> list[ProspectRow]:
    """The rows of a CSV text with the CLI's columns (line numbers as in the file).

    Raises:
        InputError: no ``email`` column, not CSV, or more than ``MAX_IMPORT`` rows.
    """
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "email" not in header:
            raise InputError("line 1: the header needs an 'email' column "
                             f"(found: {', '.join(header) or 'nothing'})")
        rows: list[ProspectRow] = []
        for line, raw in enumerate(reader, start=2):
            if len(rows) >= MAX_IMPORT:
                raise InputError(f"more than {MAX_IMPORT} rows: split the file")
            rows.append(read_row(line, {k: v if isinstance(v, str) else None
                                        for k, v in raw.items() if isinstance(k, str)}))
        return rows
    except csv.Error as exc:
        raise InputError(f"not a valid CSV text: {exc}") from exc


def row_of(index: int, item: Mapping[str, Any]) -> ProspectRow:
    """A JSON prospect as a row: the standard fields (strings), ``custom`` as given, and
    any other key a custom field (as a CSV column would be)."""
    raw = {k: (None if v is None else str(v)) for k, v in item.items()
           if k not in ("custom", "do_not_contact") and not isinstance(v, Mapping)}
    row = read_row(index, raw)
    custom = item.get("custom")
    if isinstance(custom, Mapping):
        row.custom.update({str(k): v for k, v in custom.items()})
    return row


def _normal(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text.upper() if name == "country" else text


def _apply(prospect: Prospect, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if name in EDITABLE:
            setattr(prospect, name, _normal(name, value))
        elif name == "do_not_contact":
            prospect.do_not_contact = bool(value)
        elif name == "custom" and value:
            merged = dict(prospect.custom or {})
            for key, item in dict(value).items():
                if item is None:
                    merged.pop(key, None)
                else:
                    merged[key] = item
            prospect.custom = merged  # a new dict: the JSON column sees the change


def _new(row: ProspectRow, now: datetime, do_not_contact: bool) -> Prospect:
    return Prospect(email=row.email.strip(), email_key=row.key.strip(),
                    **{k: _normal(k, v) for k, v in row.fields.items()},
                    custom=dict(row.custom), do_not_contact=do_not_contact, created_at=now)


def _by_key(session: Session, keys: Iterable[str]) -> dict[str, Prospect]:
    wanted = list(keys)
    if not wanted:
        return {}
    return {p.email_key: p for p in session.scalars(
        select(Prospect).where(Prospect.email_key.in_(wanted)))}
