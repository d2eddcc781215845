"""Auto-replies (RFC 3834 and the headers the big providers send) and their return dates.

Placeholder: the real detection is being written; these keep the interfaces stable.
"""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage


def auto_reply_headers(message: EmailMessage) -> bool:
    """Whether the headers alone mark ``message`` as automatic (not a bounce decision)."""
    return False


def looks_like_auto_reply(subject: str, text: str) -> bool:
    """Whether the subject or text reads like an out-of-office or other automatic answer."""
    return False


def return_date(text: str, *, received: date | None = None) -> date | None:
    """The day the person says they are back, when stated, in any supported language."""
    return None
