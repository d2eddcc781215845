"""The ASGI entry point for servers that import the app by name (uvicorn workers)::

    uvicorn --factory sequencer.api.asgi:from_env --workers 2

Settings come from the environment (SEQUENCER_DATABASE_URL, ...), as for every process.
"""

from __future__ import annotations

from fastapi import FastAPI

from sequencer.api.app import create_app
from sequencer.services.app import bootstrap


def from_env() -> FastAPI:
    return create_app(bootstrap())
