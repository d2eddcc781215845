"""The HTTP side: the links our emails carry, inbound mail, provider webhooks.

Thin: each route reads the request, calls one service function, and answers.
``create_app`` builds the ASGI app around an ``App`` (settings, store, clock).
"""

from sequencer.api.app import create_app

__all__ = ["create_app"]
