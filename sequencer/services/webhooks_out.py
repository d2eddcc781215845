"""Outbound webhooks: tell a CRM about replies, bounces, unsubscribes, meetings booked,
task outcomes and exits; signed, retried with backoff, each event at most once.

Two steps, each safe to run in any number of processes:

1. :func:`fan_out` reads the facts recorded since it last looked
   (``services.crm_facts``, which explains its trailing cursors) and inserts one
   ``pending`` delivery per (endpoint, event) that wants it; the unique constraint on
   (endpoint, event key) makes reading a fact twice harmless.
2. :func:`deliver_due` claims due deliveries (``pending`` → ``sending``, committed
   before any HTTP call, like the email sends), POSTs each one, then records the
   outcome in a new transaction: 2xx ``delivered``; 429, 5xx, timeouts and connection
   errors back to ``pending`` after 1 minute, doubling up to an hour, ``failed`` after
   :data:`MAX_ATTEMPTS`; any other answer (4xx, a redirect) ``failed`` at once. A
   delivery found still ``sending`` after :data:`STUCK_AFTER` (its sender died) becomes
   ``uncertain`` and is not sent again: the CRM may or may not have it.

No SSRF: the URL's form is checked when the endpoint is added, and its host is
resolved and every address checked again before each request, which then connects
to the address checked (pinned; the Host header and TLS name stay the host's), so a
name re-pointed at an internal address after registration is refused.
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sequencer.crm.signatures import SIGNATURE_HEADER, sign
from sequencer.crm.ssrf import Target, UnsafeDestination, check_addresses, check_url
from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.services.crm_facts import KINDS, Fact, new_facts
from sequencer.store.bound import dialect_of, locked
from sequencer.store.upsert import insert_ignoring
from sequencer.store.webhook_models import WebhookDelivery, WebhookEndpoint

Resolver = Callable[[str, int], Sequence[str]]
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
STUCK_AFTER = timedelta(minutes=10)
TIMEOUT = httpx.Timeout(10.0)
BATCH = 100
EVENT_ID_HEADER = "X-Sequencer-Event-Id"


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"{host}: cannot be resolved ({exc})") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# -- endpoints -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EndpointView:
    id: int
    url: str
    events: tuple[str, ...]
    allow_private: bool
    active: bool
    created_at: datetime


def add_endpoint(app: App, url: str, events: Sequence[str], *, secret: str | None = None,
                 allow_private: bool = False, resolve: Resolver = resolve_host
                 ) -> tuple[EndpointView, str]:
    """Register a URL to tell about ``events``; the view and its signing secret.

    ``secret`` None: one is generated (show it once: it is how the receiver checks us).

    Raises:
        InputError: unknown event kinds, a short secret, or a refused URL
            (:class:`UnsafeDestination`).
    """
    kinds = tuple(dict.fromkeys(e.strip() for e in events if e.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise InputError(f"unknown event kinds {', '.join(unknown) or '(none given)'}: "
                         f"choose from {', '.join(KINDS)}")
    if secret is not None and len(secret) < 16:
        raise InputError("a webhook secret must be at least 16 characters")
    target = check_url(url)
    if not allow_private:
        check_addresses(target, resolve(target.host, target.port), allow_private=False)
    secret = secret or f"whsec_{secrets.token_hex(24)}"
    with app.sessions.begin() as session:
        row = WebhookEndpoint(url=target.url, secret=secret, events=",".join(kinds),
                              allow_private=allow_private, active=True,
                              created_at=app.clock.now())
        session.add(row)
        session.flush()
        return _view(row), secret


def list_endpoints(app: App, *, include_removed: bool = False) -> list[EndpointView]:
    with app.sessions() as session:
        query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
        if not include_removed:
            query = query.where(WebhookEndpoint.active.is_(True))
        return [_view(row) for row in session.scalars(query)]


def remove_endpoint(app: App, endpoint_id: int) -> None:
    """Stop telling an endpoint anything (its deliveries stay listed; pending ones stop).

    Raises:
        InputError: no such endpoint.
    """
    with app.sessions.begin() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        if row is None or not row.active:
            raise InputError(f"no webhook endpoint {endpoint_id}")
        row.active = False


def _view(row: WebhookEndpoint) -> EndpointView:
    return EndpointView(row.id, row.url, tuple(row.events.split(",")), row.allow_private,
                        row.active, row.created_at)


# -- fan-out -------------------------------------------------------------------------
def fan_out(app: App) -> int:
    """Queue a delivery of each new fact for each active endpoint that wants it; how many."""
    now = app.clock.now()
    with app.sessions.begin() as session:
        endpoints = list(session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.active.is_(True))))
        facts = new_facts(session, now)
        rows = [_delivery_row(e, f, now) for f in facts for e in endpoints
                if f.kind in e.events.split(",") and f.recorded_at >= e.created_at]
        if not rows:
            return 0
        inserted = session.execute(insert_ignoring(
            session, WebhookDelivery, ("endpoint_id", "event_key"))
            .returning(WebhookDelivery.id), rows).all()
        return len(inserted)


def _delivery_row(endpoint: WebhookEndpoint, fact: Fact, now: datetime) -> dict[str, Any]:
    return {"endpoint_id": endpoint.id, "event_key": fact.key, "kind": fact.kind,
            "occurred_at": fact.occurred_at, "payload": fact.data, "state": "pending",
            "attempts": 0, "next_attempt_at": now, "created_at": now}


# -- delivery ------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    url: str
    secret: str
    allow_private: bool
    event_key: str
    kind: str
    occurred_at: datetime
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class _Outcome:
    state: str  # delivered | pending | failed
    status: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None


def deliver_due(app: App, client: httpx.Client | None = None, *,
                resolve: Resolver = resolve_host, limit: int = BATCH) -> DeliveryReport:
    """Send the deliveries that are due (at most ``limit``); what became of them."""
    report = DeliveryReport(uncertain=_give_up_on_stuck(app))
    claimed = _claim(app, limit)
    if not claimed:
        return report
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        for item in claimed:
            outcome = _send(app, http, item, resolve)
            state = _record(app, item, outcome)
            report.delivered += state == "delivered"
            report.retrying += state == "pending"
            report.failed += state == "failed"
    finally:
        if own:
            http.close()
    return report


def deliver_webhooks(app: App) -> DeliveryReport | None:
    """One round: queue what happened since the last, send what is due (None: no
    endpoint is registered, so nothing was even looked at)."""
    if not list_endpoints(app):
        return None
    fan_out(app)
    return deliver_due(app)


def _give_up_on_stuck(app: App) -> int:
    now = app.clock.now()
    with app.sessions.begin() as session:
        result = session.execute(update(WebhookDelivery).where(
            WebhookDelivery.state == "sending",
            WebhookDelivery.claimed_at < now - STUCK_AFTER).values(
            state="uncertain", last_error="the sender stopped during the request: the "
            "receiver may or may not have it; not sent again"))
        return int(getattr(result, "rowcount", 0) or 0)


def _claim(app: App, limit: int) -> list[_Claimed]:
    """Mark due deliveries ``sending`` and commit, before any request is made."""
    now = app.clock.now()
    with app.sessions.begin() as session:
        query = (select(WebhookDelivery, WebhookEndpoint)
                 .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .where(WebhookDelivery.state == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                        WebhookEndpoint.active.is_(True))
                 .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
        query = locked(query, dialect_of(session), of=WebhookDelivery, skip_locked=True)
        claimed = []
        for row, endpoint in session.execute(query).all():
            item = _Claimed(row.id, endpoint.url, endpoint.secret, endpoint.allow_private,
                            row.event_key, row.kind, row.occurred_at, dict(row.payload),
                            row.attempts + 1)
            if _take(session, row.id, now):  # else another sender took it first
                claimed.append(item)
        return claimed


def _take(session: Session, delivery_id: int, now: datetime) -> bool:
    result = session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.state == "pending").values(
        state="sending", claimed_at=now, attempts=WebhookDelivery.attempts + 1))
    return bool(getattr(result, "rowcount", 0))


def body_of(event_key: str, kind: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON we POST: ``{"id", "type", "occurred_at", "data"}``."""
    return json.dumps({"id": event_key, "type": kind, "occurred_at": occurred_at.isoformat(),
                       "data": data}, separators=(",", ":"), sort_keys=True).encode()


def _send(app: App, http: httpx.Client, item: _Claimed, resolve: Resolver) -> _Outcome:
    try:
        target = check_url(item.url)
        addresses = check_addresses(target, resolve(target.host, target.port),
                                    allow_private=item.allow_private)
    except UnsafeDestination as exc:
        return _Outcome("failed", error=str(exc))
    body = body_of(item.event_key, item.kind, item.occurred_at, item.payload)
    headers = {"Content-Type": "application/json", "User-Agent": "sequencer-webhooks",
               EVENT_ID_HEADER: item.event_key,
               SIGNATURE_HEADER: sign(item.secret, body, now=app.clock.now())}
    url, extra = _pinned(target, str(addresses[0]), headers)
    try:
        response = http.post(url, content=body, headers=headers, extensions=extra)
    except httpx.TimeoutException as exc:
        return _Outcome("pending", error=f"timed out: {exc.__class__.__name__}")
    except httpx.TransportError as exc:
        return _Outcome("pending", error=f"{exc.__class__.__name__}: {exc}"[:500])
    return _judge(response)


def _pinned(target: Target, address: str, headers: dict[str, str]
            ) -> tuple[str, dict[str, Any]]:
    """The URL with its host replaced by the checked address; Host and SNI keep the name."""
    parts = httpx.URL(target.url)
    host = f"[{address}]" if ":" in address else address
    headers["Host"] = parts.netloc.decode("ascii")
    extra = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return str(parts.copy_with(host=host.strip("[]"))), extra


def _judge(response: httpx.Response) -> _Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return _Outcome("delivered", status=code)
    text = f"HTTP {code}: {response.text[:300]}"
    if code == 429 or code >= 500:
        return _Outcome("pending", status=code, error=text,
                        retry_after=_retry_after(response.headers.get("retry-after")))
    return _Outcome("failed", status=code, error=text)


def _retry_after(value: str | None) -> timedelta | None:
    if value and value.strip().isdigit():
        return min(timedelta(seconds=int(value.strip())), MAX_RETRY)
    return None


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1 minute, doubling, at most an hour."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), MAX_RETRY)


def _record(app: App, item: _Claimed, outcome: _Outcome) -> str:
    now = app.clock.now()
    state = outcome.state
    if state == "pending" and item.attempts >= MAX_ATTEMPTS:
        state = "failed"
    values: dict[str, Any] = {"state": state, "last_status": outcome.status,
                              "last_error": outcome.error}
    if state == "delivered":
        values["delivered_at"] = now
    if state == "pending":
        values["next_attempt_at"] = now + max(backoff(item.attempts),
                                              outcome.retry_after or timedelta(0))
    with app.sessions.begin() as session:
        session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == item.id, WebhookDelivery.state == "sending").values(**values))
    return state


# -- listing -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    endpoint_id: int
    url: str
    event_key: str
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


def list_deliveries(app: App, *, failed_only: bool = False, limit: int = 100
                    ) -> list[DeliveryView]:
    """The latest deliveries first; ``failed_only``: those given up on (failed, uncertain)."""
    with app.sessions() as session:
        query = (select(WebhookDelivery, WebhookEndpoint.url)
                 .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .order_by(WebhookDelivery.id.desc()).limit(limit))
        if failed_only:
            query = query.where(WebhookDelivery.state.in_(("failed", "uncertain")))
        return [DeliveryView(d.id, d.endpoint_id, url, d.event_key, d.kind, d.state,
                             d.attempts, d.next_attempt_at, d.last_status, d.last_error,
                             d.delivered_at) for d, url in session.execute(query)]
