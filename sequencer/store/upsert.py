"""``INSERT ... ON CONFLICT DO NOTHING`` for both backends: unique keys settle races."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sequencer.store.bound import dialect_of


def dialect_insert(table: Any, dialect: str) -> Any:
    """The backend's own ``INSERT`` of a table or model, the one with ``ON CONFLICT``."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def keeping_existing(keys: Sequence[str]) -> Callable[[Any], Any]:
    """What an insert does on a conflict of the unique ``keys``: skip the row."""
    return lambda statement: statement.on_conflict_do_nothing(index_elements=list(keys))


def insert_ignoring(session: Session, model: type[Any], keys: Sequence[str]) -> Any:
    """An insert of ``model`` rows that skips rows whose ``keys`` already exist."""
    return keeping_existing(keys)(dialect_insert(model, dialect_of(session)))


def suppress(session: Session, value: str, reason: str, now: Any, kind: str = "address") -> None:
    """Suppress an address (or a domain) for good; suppressing twice changes nothing."""
    session.execute(insert_ignoring(session, _suppression(), ("kind", "value")),
                    [{"kind": kind, "value": value.lower(), "reason": reason, "created_at": now}])


def _suppression() -> type[Any]:
    from sequencer.store.models import Suppression

    return Suppression
