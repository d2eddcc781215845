"""Keyset pagination: ``?limit=50&cursor=...``; each page says where the next starts.

The cursor is opaque to clients (it encodes the last key seen), so pages stay
stable while rows are added, and deep pages cost what the first one does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from sequencer.api.errors import ApiError

T = TypeVar("T")
MAX_LIMIT = 500
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns: a bigger one can name nothing


class Paginated(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None  # pass as ?cursor= for the next page; null on the last


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    after: int | None  # the last key of the previous page

    def page(self, rows: Sequence[T], key: Callable[[T], int]) -> tuple[list[T], str | None]:
        """Rows fetched with ``limit + 1`` → this page's rows and the next cursor."""
        kept = list(rows[:self.limit])
        more = len(rows) > self.limit
        return kept, (encode_cursor(key(kept[-1])) if more and kept else None)


def encode_cursor(last: int) -> str:
    return base64.urlsafe_b64encode(f"k:{last}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        last = int(text[2:]) if text.startswith("k:") else -1
        if not 0 <= last <= MAX_ID:
            raise ValueError(text)
        return last
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "cursor: not one this API gave out "
                       "(pass next_cursor from the previous page as is)",
                       details=[{"field": "query.cursor", "message": "unknown cursor"}]) from None


async def page_params(limit: Annotated[int, Query(ge=1, le=MAX_LIMIT,
                                                  description="items per page")] = 50,
                      cursor: Annotated[str | None, Query(
                          description="next_cursor of the previous page")] = None
                      ) -> PageParams:
    return PageParams(limit, decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]
