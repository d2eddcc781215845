"""The delivery port: what the runtime hands a transport, and what it gets back.

A transport's contract with the durable runtime (RELIABILITY.md, rules 3 and 9):

- ``send`` returns a ``SendResult`` only once the provider has accepted the message.
- ``TransientSendError``: nothing was accepted; the same message (same Message-ID)
  may be sent again later.
- ``UncertainSendError`` (a ``TransientSendError``!): the message may have been
  accepted (RFC 1047: the connection broke after the end of data, before the reply).
  Never resend it blindly; mark the step ``uncertain`` and reconcile by Message-ID.
  Catch it *before* ``TransientSendError``.
- ``PermanentSendError``: refused for good; ``str()`` carries the provider's reason.
- ``HeaderInjectionError``: refused before anything left the process.
- Any other exception (a time limit, ``KeyboardInterrupt``) escaping ``send`` leaves
  the outcome unknown and must be treated as uncertain.

A send may also be taken in two halves (``begin_send``): ``begin`` may start talking
to the provider but delivers nothing, ``finish`` delivers (with ``send``'s contract)
and ``abandon`` withdraws. The runtime records a run ``sending`` between the two, so
the provider reads the SMTP envelope while the database records the hand-over.
Such a transport may also build the message ahead (``build_ahead``), on another
thread, so that the one-at-a-time send lane only talks to the provider.

This package must not import sequencer.store, sequencer.runtime or sequencer.engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, cast

from sequencer.errors import TransientSendError


class UncertainSendError(TransientSendError):
    """The provider may have accepted the message: the reply to the end of data was lost.

    A subclass of ``TransientSendError`` so that code which only knows the base tree
    still does not treat it as permanent; the runtime must catch it first and never
    resend the message without evidence (RELIABILITY.md, rule 3).
    """


@dataclass(frozen=True, slots=True)
class OutboundEmail:
    """One e-mail, fully rendered (text, and HTML when there is one), ready for a transport.

    ``message_id`` is generated (``new_message_id``) and stored before the first send
    attempt and reused on every resend, so that duplicates can be recognised.
    """

    message_id: str
    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    text_body: str
    html_body: str | None = None  # with it the message is multipart/alternative
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said when it accepted the message."""

    provider_id: str | None = None


class Transport(Protocol):
    """Hands messages to a provider. See the module docstring for the error contract."""

    def send(self, email: OutboundEmail) -> SendResult:
        """Deliver ``email`` or raise a ``DeliveryError`` saying what is known."""
        ...

    def close(self) -> None:
        """Release connections; the transport may still be used afterwards (it reconnects)."""
        ...


class Delivery(Protocol):
    """A send under way: ``finish`` or ``abandon`` it, once."""

    def finish(self) -> SendResult:
        """Deliver, with ``Transport.send``'s contract (it raises what ``send`` would)."""
        ...

    def abandon(self) -> None:
        """Withdraw: nothing is delivered, and the transport is ready for the next send."""
        ...


class StagedTransport(Transport, Protocol):
    """A transport that can start a send before it is allowed to deliver it."""

    def build(self, email: OutboundEmail) -> bytes:
        """The message as ``begin`` would send it: pure CPU, no connection, any thread.
        Raises what building refuses (``HeaderInjectionError``...)."""
        ...

    def begin(self, email: OutboundEmail, built: bytes | None = None) -> Delivery:
        """Start sending ``email`` (as ``built`` by ``build``, when given) without
        delivering it; never raises a ``DeliveryError`` (``finish`` raises it)."""
        ...


class _SendOnFinish:
    """The two halves for a transport that only knows ``send``: all of it in ``finish``."""

    def __init__(self, transport: Transport, email: OutboundEmail) -> None:
        self._transport, self._email = transport, email

    def finish(self) -> SendResult:
        return self._transport.send(self._email)

    def abandon(self) -> None:
        pass


def begin_send(transport: Transport, email: OutboundEmail,
               built: bytes | None = None) -> Delivery:
    """Start sending ``email`` (``built`` ahead by ``build_ahead`` with a transport of
    the same URL, or None); nothing is delivered before ``finish``."""
    # A ``StagedTransport`` is recognised by its method: a runtime Protocol isinstance
    # walks the protocol's members each time, a tenth of the send lane's interpreter time.
    if callable(getattr(transport, "begin", None)):
        return cast(StagedTransport, transport).begin(email, built)
    return _SendOnFinish(transport, email)


def build_ahead(transport: Transport, email: OutboundEmail) -> bytes | None:
    """The message built for ``begin_send``, or None: the transport builds as it sends,
    or building failed (``finish`` raises that error in its place, as it would have)."""
    if not callable(getattr(transport, "build", None)):
        return None
    try:
        return cast(StagedTransport, transport).build(email)
    except Exception:  # begin builds again, and finish raises the error to be recorded
        return None
