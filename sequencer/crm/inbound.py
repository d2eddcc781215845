"""CRM webhook bodies → stage changes and meetings booked, each item on its own.

Pure: the body is bytes in, :class:`Parsed` out. Every item is mapped before any is
applied; an item that cannot be read becomes an :class:`ItemError` naming its place
in the batch, its id when it has one, and the field at fault, while the others go on.
A body that is not JSON at all raises :class:`MalformedPayload` (answered 400).

The shapes (docs/webhooks.md has examples):

- **generic**: one object or a list of them:
  ``{"id", "type": "stage_changed"|"meeting_booked", "email", "stage", "value",
  "currency", "occurred_at"}``; ``stage`` only for stage changes; ``value``,
  ``currency`` and ``occurred_at`` (ISO 8601 with an offset) optional.
- **hubspot**: HubSpot's list of webhook events. ``contact.propertyChange`` of
  ``lifecyclestage`` or ``hs_lead_status`` is a stage change (``propertyValue``),
  ``meeting.creation`` (or ``object.creation`` of a meeting, ``objectTypeId`` 0-47) a
  meeting; ``eventId`` is the id, ``occurredAt`` (ms) the time. HubSpot names the
  contact by ``objectId`` only, so each event must carry the contact's ``email``
  (added by the workflow or relay that sends it): we do not call HubSpot back.
- **salesforce**: one record or a list (or ``{"records": [...]}``) from a Flow or
  Apex callout. With ``StageName`` (or a Lead's ``Status``) a stage change, with
  ``StartDateTime`` (an Event) a meeting; the contact's address in ``Email``,
  ``ContactEmail`` or ``WhoEmail``; amount in ``Amount``/``CurrencyIsoCode``; time
  in ``LastModifiedDate`` (stage) or ``CreatedDate`` (meeting). The id is
  ``EventUuid`` when given (Platform Events), else the record ``Id``, with the stage
  and modification time for a stage change (one opportunity changes stage often).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sequencer.crm.stages import StageMap
from sequencer.errors import InputError
from sequencer.inbound.webhook_auth import MalformedPayload
from sequencer.reporting.lifecycle import Lifecycle

Kind = Literal["stage_changed", "meeting_booked"]
MAX_ITEMS = 1000
HUBSPOT_STAGE_PROPERTIES = ("lifecyclestage", "hs_lead_status")
HUBSPOT_MEETING_TYPE = "0-47"


@dataclass(frozen=True, slots=True)
class CrmEvent:
    """One fact a CRM told us, checked and mapped to a lifecycle stage."""

    index: int  # its place in the batch, from 0
    id: str  # the CRM's own id for it: the same id twice is applied once
    kind: Kind
    email: str
    stage: str | None = None  # lifecycle spelling
    crm_stage: str | None = None  # as the CRM named it
    value: float | None = None
    currency: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why one item of a batch was refused."""

    index: int
    id: str | None
    field: str
    message: str

    def as_data(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "field": self.field, "error": self.message}


@dataclass(frozen=True, slots=True)
class Parsed:
    events: list[CrmEvent] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


class _Refused(Exception):
    """One item's field is wrong (internal: becomes an ItemError)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def parse(source: str, body: bytes, *, stages: StageMap, lifecycle: Lifecycle) -> Parsed:
    """Map a body from ``source`` (generic, hubspot, salesforce), item by item.

    Raises:
        MalformedPayload: not JSON, not the outer shape of the source, or too many items.
        ValueError: an unknown source.
    """
    readers: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
        "generic": _generic, "hubspot": _hubspot, "salesforce": _salesforce}
    if source not in readers:
        raise ValueError(f"unknown CRM source {source!r}")
    items = _items(source, body)
    parsed = Parsed()
    for index, item in enumerate(items):
        given_id = _id_of(item)
        try:
            if not isinstance(item, Mapping):
                raise _Refused("(item)", "expected a JSON object")
            fields = readers[source](item)
            parsed.events.append(_finish(source, index, fields, stages, lifecycle))
        except _Refused as exc:
            parsed.errors.append(ItemError(index, given_id, exc.field, str(exc)))
    return parsed


def _items(source: str, body: bytes) -> list[Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"{source}: the body is not JSON ({exc})") from exc
    if source == "salesforce" and isinstance(data, dict) and isinstance(data.get("records"),
                                                                         list):
        data = data["records"]
    if source == "hubspot" and not isinstance(data, list):
        raise MalformedPayload("hubspot: expected a JSON array of events")
    if not isinstance(data, list | dict):
        raise MalformedPayload(f"{source}: expected a JSON object or an array of objects")
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_ITEMS:
        raise MalformedPayload(f"{source}: {len(items)} items: at most {MAX_ITEMS} a request")
    return items


def _id_of(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return None
    for name in ("id", "eventId", "EventUuid", "Id"):
        value = item.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


# -- the three shapes ----------------------------------------------------------------
def _generic(item: Mapping[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind not in ("stage_changed", "meeting_booked"):
        raise _Refused("type", f"expected 'stage_changed' or 'meeting_booked', got {kind!r}")
    return {"id": _required_id(item, "id"), "kind": kind, "email": _email(item, "email"),
            "crm_stage": _text(item, "stage") if kind == "stage_changed" else None,
            "value": _amount(item, "value"), "currency": _currency(item, "currency"),
            "occurred_at": _iso(item, "occurred_at")}


def _hubspot(item: Mapping[str, Any]) -> dict[str, Any]:
    subscription = item.get("subscriptionType")
    fields: dict[str, Any] = {"id": _required_id(item, "eventId"),
                              "occurred_at": _millis(item, "occurredAt")}
    if subscription == "contact.propertyChange":
        prop = item.get("propertyName")
        if prop not in HUBSPOT_STAGE_PROPERTIES:
            raise _Refused("propertyName", f"{prop!r} is not a stage property (we take "
                           f"{' and '.join(HUBSPOT_STAGE_PROPERTIES)})")
        fields.update(kind="stage_changed", crm_stage=_text(item, "propertyValue"))
    elif subscription == "meeting.creation" or (
            subscription == "object.creation"
            and str(item.get("objectTypeId")) == HUBSPOT_MEETING_TYPE):
        fields["kind"] = "meeting_booked"
    else:
        raise _Refused("subscriptionType", f"{subscription!r}: we take contact.propertyChange "
                       "(lifecyclestage, hs_lead_status) and meeting.creation")
    fields["email"] = _email(item, "email", hint=" (HubSpot sends objectId only: add the "
                             "contact's email to each event)")
    return fields


def _salesforce(item: Mapping[str, Any]) -> dict[str, Any]:
    name = next((n for n in ("Email", "ContactEmail", "WhoEmail") if item.get(n)), "Email")
    email = _email(item, name)
    uuid = item.get("EventUuid")
    if "StartDateTime" in item:
        return {"id": str(uuid) if uuid else _required_id(item, "Id"), "kind": "meeting_booked",
                "email": email, "occurred_at": _iso(item, "CreatedDate")}
    stage_field = "StageName" if "StageName" in item or "Status" not in item else "Status"
    stage = _text(item, stage_field)
    modified = _iso(item, "LastModifiedDate")
    record = _required_id(item, "Id") if not uuid else str(uuid)
    key = str(uuid) if uuid else f"{record}:{stage}:{modified.isoformat() if modified else ''}"
    return {"id": key, "kind": "stage_changed", "email": email, "crm_stage": stage,
            "value": _amount(item, "Amount"), "currency": _currency(item, "CurrencyIsoCode"),
            "occurred_at": modified}


def _finish(source: str, index: int, fields: dict[str, Any], stages: StageMap,
            lifecycle: Lifecycle) -> CrmEvent:
    stage = None
    if fields["kind"] == "stage_changed":
        name = "stage" if source == "generic" else (
            "propertyValue" if source == "hubspot" else "StageName")
        try:
            stage = stages.to_lifecycle(source, fields["crm_stage"], lifecycle)
        except InputError as exc:
            raise _Refused(name, str(exc)) from exc
    return CrmEvent(index=index, stage=stage, **{k: v for k, v in fields.items()
                                                  if k in _EVENT_FIELDS})


_EVENT_FIELDS = ("id", "kind", "email", "crm_stage", "value", "currency", "occurred_at")


# -- fields --------------------------------------------------------------------------
def _required_id(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise _Refused(name, "required: the CRM's id of this event (a string or a number)")
    if len(str(value)) > 200:
        raise _Refused(name, "longer than 200 characters")
    return str(value).strip()


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _Refused(name, "required: a non-empty string")
    return value.strip()


def _email(item: Mapping[str, Any], name: str, hint: str = "") -> str:
    value = item.get(name)
    if not isinstance(value, str) or "@" not in value.strip(" <>"):
        raise _Refused(name, f"required: the prospect's email address{hint}")
    return value.strip(" <>")


def _amount(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Refused(name, f"expected a number, got {value!r}") from None
    if number < 0 or number != number or number in (float("inf"), float("-inf")):
        raise _Refused(name, f"expected a non-negative amount, got {value!r}")
    return number


def _currency(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise _Refused(name, f"expected a three-letter currency code, got {value!r}")
    return value.strip().upper()


def _iso(item: Mapping[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(name, f"expected an ISO 8601 time, got {value!r}") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise _Refused(name, f"{value!r} has no time zone (add Z or an offset like +02:00)")
    return when.astimezone(UTC)


def _millis(item: Mapping[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused(name, f"expected epoch milliseconds, got {value!r}")
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Refused(name, f"{value!r} is not a time in epoch milliseconds") from None
