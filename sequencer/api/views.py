"""Responses that show a service's view (a dataclass) field by field, by name.

The response model adds what the OpenAPI document needs (descriptions, the
literal states); the values come from the view's attributes of the same names.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class ViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, view: Any) -> Self:
        return cls.model_validate(view)
