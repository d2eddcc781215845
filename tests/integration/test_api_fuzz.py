"""Schemathesis fuzzes every operation of /openapi.json: no input, valid or not, may
make the server fail (5xx), and every answer must match the schema it publishes.

Runs on PostgreSQL (production's store) with an admin token, over a store that holds
a mailbox, a published sequence, enrolled prospects and open tasks, so that ids in
paths sometimes exist and the handlers past validation are reached too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from sequencer.api import create_app
from sequencer.api.auth import TokenCache
from sequencer.api.ratelimit import RateLimiter
from sequencer.services.api_tokens import create_token
from sequencer.services.app import bootstrap
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.settings import Settings
from tests.conftest import _truncate_postgres
from tests.integration.helpers import COLD, make_app, write_csv

pytestmark = pytest.mark.integration
HEADER = "email,first_name,company,timezone,country"
# Per operation. CI runs a fixed set of examples (derandomized: a red build is a bug,
# never luck); SEQUENCER_FUZZ_EXAMPLES=500 SEQUENCER_FUZZ_RANDOM=1 hunts further locally.
EXAMPLES = int(os.environ.get("SEQUENCER_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("SEQUENCER_FUZZ_RANDOM") == "1"


@schemathesis.serializer("message/rfc822")
def _raw_message(_ctx: object, value: object) -> bytes:
    """Raw mail bodies: whatever was generated, as bytes (the app must cope with any)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


# The schema is read at import time from an app on a placeholder store; each test
# points that same ASGI app at a freshly filled PostgreSQL store.
ASGI = create_app(bootstrap(Settings(database_url="sqlite://")))
schema = schemathesis.openapi.from_asgi("/openapi.json", ASGI)


@pytest.fixture
def bearer(postgres_database: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The store filled and plugged in; the admin token's header."""
    _truncate_postgres(postgres_database)
    app, _clock = make_app(postgres_database)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}",
                daily_cap=100, owner="rita")
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER,
                                    "ann@acme.example,Ann,Acme,America/New_York,US",
                                    "bob@beta.example,Bob,Beta,Europe/Paris,FR"),
               mailbox="ana@sender.example")
    _, token = create_token(app, "fuzzer", scope="admin", owner="rita",
                            rate_per_minute=1_000_000)
    placeholder = ASGI.state.app
    ASGI.state.app = app
    ASGI.state.token_cache = TokenCache()
    ASGI.state.rate_limiter = RateLimiter()
    yield {"Authorization": f"Bearer {token}"}
    ASGI.state.app = placeholder
    app.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_request_makes_a_server_error(case: schemathesis.Case,
                                         bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer,
                           checks=[not_a_server_error, response_schema_conformance])
