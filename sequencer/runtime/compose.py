"""Turning an engine ``SendEmail`` into the ``OutboundEmail`` a transport takes.

Shared by the per-run and the batch paths of the executor, so a message is built
one way only. ``prospect`` may be an ORM object or a Core row: only attributes
are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sequencer.delivery import OutboundEmail, new_message_id
from sequencer.engine.actions import SendEmail
from sequencer.render import Renderer
from sequencer.render.context import template_context

PROSPECT_FIELDS = ("email", "first_name", "last_name", "title", "company", "phone",
                   "linkedin_url", "city", "country", "timezone", "industry")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A run stored ``ready``: everything the hand-over needs, no ORM objects."""

    run_id: int
    attempt: int  # a stale attempt (its run was re-prepared since) may not hand over
    enrollment_id: int
    step: str
    transport: str
    email: OutboundEmail


def compose(renderer: Renderer, send: SendEmail, prospect: Any, mailbox: Any,
            run_key: str, message_id: str | None = None) -> OutboundEmail:
    """Render the email; ``message_id`` is kept when the run was prepared before.

    Raises:
        RenderError: a template or the subject cannot be rendered for this prospect.
    """
    context = template_context(prospect_fields(prospect), sender=sender_fields(mailbox),
                               custom=prospect.custom)
    body = renderer.render_file(send.template, context)
    subject = send.subject or ""
    if send.in_reply_to is None:  # a threaded subject is already rendered text
        subject = renderer.render_text(subject, context, name=f"subject of {send.step}")
    domain = mailbox.address.rsplit("@", 1)[-1]
    return OutboundEmail(
        message_id=message_id or new_message_id(domain), from_address=mailbox.address,
        from_name=mailbox.display_name, to_address=prospect.email,
        to_name=" ".join(p for p in (prospect.first_name, prospect.last_name) if p) or None,
        subject=subject.strip(), text_body=body, in_reply_to=send.in_reply_to,
        references=send.references, headers={"X-Sequencer-Key": run_key},
    )


def prospect_fields(prospect: Any) -> dict[str, str | None]:
    fields = {name: getattr(prospect, name) for name in PROSPECT_FIELDS}
    full = " ".join(p for p in (prospect.first_name, prospect.last_name) if p)
    fields["full_name"] = full or None
    return fields


def sender_fields(mailbox: Any) -> dict[str, str | None]:
    name = mailbox.display_name or mailbox.address.split("@")[0]
    return {"name": name, "email": mailbox.address, "first_name": name.split()[0],
            "signature": mailbox.signature or name}


def run_key(enrollment_id: int, step_id: str, round_: int) -> str:
    """The X-Sequencer-Key header: which run a message (or a bounce of it) belongs to."""
    return f"{enrollment_id}:{step_id}:{round_}"
