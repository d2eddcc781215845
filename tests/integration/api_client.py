"""A test harness for the HTTP API: the real app over TestClient, one token per scope.

``api.get(path, as_="read")`` calls with the read token; ``as_=None`` calls with none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sequencer.api import create_app
from sequencer.clock import FakeClock
from sequencer.services.api_tokens import create_token
from sequencer.services.app import App
from tests.integration.helpers import make_app


@dataclass
class ApiHarness:
    app: App
    clock: FakeClock
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, as_: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        return {**found, **(extra or {})}

    def get(self, path: str, *, as_: str | None = "read", **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(as_, kwargs.pop("headers", None)),
                               **kwargs)

    def post(self, path: str, *, as_: str | None = "write", **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(as_, kwargs.pop("headers", None)),
                                **kwargs)

    def patch(self, path: str, *, as_: str | None = "write", **kwargs: Any) -> httpx.Response:
        return self.client.patch(path, headers=self.headers(as_, kwargs.pop("headers", None)),
                                 **kwargs)

    def delete(self, path: str, *, as_: str | None = "write", **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self.headers(as_, kwargs.pop("headers", None)),
                                  **kwargs)


def harness(database_url: str, *, rate_per_minute: int = 10_000) -> Iterator[ApiHarness]:
    app, clock = make_app(database_url)
    found = ApiHarness(app, clock, TestClient(create_app(app), raise_server_exceptions=False))
    for scope in ("read", "write", "admin"):
        _, raw = create_token(app, f"{scope} token", scope=scope, owner="rita",
                              rate_per_minute=rate_per_minute)
        found.tokens[scope] = raw
    with found.client:
        yield found
    app.close()


@pytest.fixture
def api(database_url: str) -> Iterator[ApiHarness]:
    """The API on a fresh database (SQLite, then PostgreSQL), tokens for each scope."""
    yield from harness(database_url)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the API's error body with ``status`` and ``code``; returns it."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code, body
    assert body["message"], "every error says what went wrong"
    return body
