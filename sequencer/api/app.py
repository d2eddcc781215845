"""The FastAPI application, built around one ``App``."""

from __future__ import annotations

from fastapi import FastAPI

from sequencer.api import inbound, links, webhooks
from sequencer.services.app import App


def create_app(app: App) -> FastAPI:
    """The ASGI app: one-click unsubscribe, tracking links, raw MIME intake."""
    api = FastAPI(title="sequencer", version="0.1.0",
                  description="Outreach sequencing engine: links, inbound mail, webhooks.")
    api.state.app = app
    api.include_router(links.router)
    api.include_router(inbound.router)
    api.include_router(webhooks.router)
    return api
