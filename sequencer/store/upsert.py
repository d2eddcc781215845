"""``INSERT ... ON CONFLICT DO NOTHING`` for both backends: unique keys settle races."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring(session: Session, model: type[Any], keys: Sequence[str]) -> Any:
    """An insert of ``model`` rows that skips rows whose ``keys`` already exist."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing(index_elements=list(keys))


def suppress(session: Session, value: str, reason: str, now: Any, kind: str = "address") -> None:
    """Suppress an address (or a domain) for good; suppressing twice changes nothing."""
    session.execute(insert_ignoring(session, _suppression(), ("kind", "value")),
                    [{"kind": kind, "value": value.lower(), "reason": reason, "created_at": now}])


def _suppression() -> type[Any]:
    from sequencer.store.models import Suppression

    return Suppression
