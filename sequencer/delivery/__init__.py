"""Delivery: turning a rendered step into a message a provider has accepted.

Owns the outbound message value, its MIME form, header-injection checks (RELIABILITY.md
rule 9) and the transports (SMTP, a file outbox). The error contract a transport
offers the durable runtime is in ``sequencer.delivery.model``; in short:

::

    DeliveryError                    (sequencer.errors)
     ├── TransientSendError          nothing accepted: send again later, same Message-ID
     │    └── UncertainSendError     maybe accepted: mark uncertain, never resend blindly
     ├── PermanentSendError          refused for good: str() is the provider's reason
     └── HeaderInjectionError        refused before anything left the process

Must not import sequencer.store, sequencer.runtime or sequencer.engine: the runtime
calls delivery, never the other way round.
"""

from sequencer.delivery.headers import check_header_value, new_message_id
from sequencer.delivery.mime import build_mime
from sequencer.delivery.model import OutboundEmail, SendResult, Transport, UncertainSendError
from sequencer.delivery.outbox import FileOutbox
from sequencer.delivery.smtp import SmtpTransport
from sequencer.delivery.urls import transport_from_url

__all__ = [
    "FileOutbox",
    "OutboundEmail",
    "SendResult",
    "SmtpTransport",
    "Transport",
    "UncertainSendError",
    "build_mime",
    "check_header_value",
    "new_message_id",
    "transport_from_url",
]
