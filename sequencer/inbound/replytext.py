"""The new text of a reply: without quoted history and signature. Placeholder for now."""

from __future__ import annotations


def reply_text(text: str) -> str:
    """What the person wrote, with quoted history and signature removed."""
    return text.strip()
