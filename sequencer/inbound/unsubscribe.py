"""A person asking, in their own words, to be removed. Placeholder for now."""

from __future__ import annotations


def asks_to_unsubscribe(text: str) -> bool:
    """Whether the new text of a reply (quotes removed) asks to stop or be removed."""
    return False
