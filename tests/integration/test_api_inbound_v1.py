"""POST /v1/inbound/mime: raw MIME in under an API token (write scope), taken in once,
the same function as the older /inbound/mime behind SEQUENCER_INBOUND_TOKEN."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from sequencer.runtime.embedded import next_wake, run_once
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment
from tests.integration.api_client import ApiHarness, assert_error
from tests.integration.helpers import COLD, write_csv

pytestmark = pytest.mark.integration
RAW = (b"From: Ann <ann@acme.example>\r\nTo: ana@sender.example\r\n"
       b"Subject: Re: hello\r\nMessage-ID: <r1@acme.example>\r\n"
       b"Date: Tue, 24 Nov 2026 10:00:00 -0500\r\n\r\nYes, let's talk on Thursday.\r\n")
MIME = {"Content-Type": "message/rfc822"}


@pytest.fixture
def sent(api: ApiHarness, tmp_path: Path) -> ApiHarness:
    add_mailbox(api.app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}",
                daily_cap=100)
    enroll_csv(api.app, COLD, write_csv(tmp_path / "p.csv", "email,first_name,timezone",
                                        "ann@acme.example,Ann,America/New_York"),
               mailbox="ana@sender.example")
    wake = next_wake(api.app)
    assert wake is not None
    api.clock.set(wake)
    run_once(api.app)
    return api


def test_a_reply_posted_as_raw_mime_exits_the_sequence_once(sent: ApiHarness) -> None:
    first = sent.post("/v1/inbound/mime", content=RAW, headers=MIME)
    again = sent.post("/v1/inbound/mime", content=RAW, headers=MIME)

    assert first.status_code == 200, first.text
    assert first.json()["kind"] == "reply" and first.json()["duplicate"] is False
    assert first.json()["prospect"] == "ann@acme.example"
    assert first.json()["enrollments"][0]["status"] == "exited"
    assert again.json()["duplicate"] is True
    with sent.app.sessions() as session:
        assert session.scalars(select(Enrollment.status)).one() == "exited"


def test_needs_a_write_token_and_a_body(sent: ApiHarness) -> None:
    assert_error(sent.post("/v1/inbound/mime", as_=None, content=RAW), 401, "unauthenticated")
    assert_error(sent.post("/v1/inbound/mime", as_="read", content=RAW), 403, "forbidden")
    assert_error(sent.post("/v1/inbound/mime", content=b"  "), 400, "bad_request")
    assert_error(sent.post("/v1/inbound/mime", content=RAW,
                           headers={"Content-Length": str(30 * 2**20)}), 413, "too_large")
    with sent.app.sessions() as session:
        assert session.scalars(select(Enrollment.status)).one() == "active"


def test_the_old_route_still_wants_its_own_token(sent: ApiHarness) -> None:
    # No SEQUENCER_INBOUND_TOKEN here: /inbound/mime is off, whatever API token is sent.
    assert sent.post("/inbound/mime", content=RAW).status_code == 403
    schema = sent.client.get("/openapi.json").json()
    body = schema["paths"]["/v1/inbound/mime"]["post"]["requestBody"]
    assert "message/rfc822" in body["content"]
