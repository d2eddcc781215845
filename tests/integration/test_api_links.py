"""The links our emails carry, through the HTTP app: one-click unsubscribe (RFC 8058),
clicks and opens; and raw MIME in over HTTP (RELIABILITY T13, T21)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sequencer.api import create_app
from sequencer.delivery.tokens import TokenSigner
from sequencer.runtime.embedded import next_wake, run_once
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Event, Prospect, Suppression
from tests.integration.helpers import COLD, make_app, write_csv

pytestmark = pytest.mark.integration
KEYS = ("new-key-0123456789abcdef", "old-key-0123456789abcdef")
HEADER = "email,first_name,company,timezone,country"


@pytest.fixture
def sent(database_url: str, tmp_path: Path) -> Iterator[tuple[App, TestClient, str]]:
    """Ann enrolled twice (two sequences' worth of enrollments) and her intro sent."""
    app, clock = make_app(database_url)
    app.settings = replace(app.settings, secret_keys=KEYS, inbound_token="s3cret-token")
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}",
                daily_cap=100)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER,
                                    "ann@acme.example,Ann,Acme,America/New_York,US"),
               mailbox="ana@sender.example")
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake)
    run_once(app)
    with app.sessions() as session:
        enrollment_id = session.scalars(select(Enrollment.id)).one()
    with TestClient(create_app(app), follow_redirects=False) as client:
        yield app, client, f"{enrollment_id}:intro:1"
    app.close()


def state_of(app: App) -> tuple[str, list[str]]:
    with app.sessions() as session:
        status = session.scalars(select(Enrollment.status).join(
            Prospect, Prospect.id == Enrollment.prospect_id)).one()
        return status, list(session.scalars(select(Suppression.value)))


def test_one_click_post_unsubscribes_with_200_and_no_redirect_in_either_encoding(
        sent: tuple[App, TestClient, str]) -> None:
    app, client, run = sent
    token = TokenSigner(KEYS).unsubscribe("ann@acme.example", run)

    first = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    again = client.post(f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})

    assert first.status_code == again.status_code == 200
    assert "location" not in first.headers and "set-cookie" not in first.headers
    assert state_of(app) == ("exited", ["ann@acme.example"])
    with app.sessions() as session:
        assert len(session.scalars(select(Event).where(Event.kind == "unsubscribe")).all()) == 1


def test_a_get_of_the_unsubscribe_link_only_asks_and_changes_nothing(
        sent: tuple[App, TestClient, str]) -> None:
    app, client, run = sent
    token = TokenSigner(KEYS).unsubscribe("ann@acme.example", run)

    page = client.get(f"/u/{token}")

    assert page.status_code == 200 and "<form method=post>" in page.text
    assert state_of(app) == ("active", [])


def test_a_token_signed_with_a_retired_key_still_unsubscribes_and_a_forged_one_is_404(
        sent: tuple[App, TestClient, str]) -> None:
    app, client, run = sent
    old = TokenSigner(KEYS[1:]).unsubscribe("ann@acme.example", run)
    forged = TokenSigner(("attacker-key-0123456789",)).unsubscribe("ann@acme.example", run)

    assert client.post(f"/u/{forged}").status_code == 404
    assert client.post(f"/u/{old[:-2]}xx").status_code == 404
    assert state_of(app) == ("active", [])
    assert client.post(f"/u/{old}").status_code == 200
    assert state_of(app) == ("exited", ["ann@acme.example"])


def test_a_click_redirects_only_to_the_signed_destination_and_is_recorded_once(
        sent: tuple[App, TestClient, str]) -> None:
    app, client, run = sent
    signer = TokenSigner(KEYS)
    token = signer.click(run, "https://acme.example/pricing?utm=seq")

    first = client.get(f"/c/{token}")
    client.get(f"/c/{token}")

    assert first.status_code == 302
    assert first.headers["location"] == "https://acme.example/pricing?utm=seq"
    assert client.get(f"/c/{token[:-3]}abc").status_code == 404
    assert client.get("/c/https%3A%2F%2Fevil.example").status_code == 404
    with app.sessions() as session:
        clicks = session.scalars(select(Event).where(Event.kind == "click")).all()
    assert len(clicks) == 1
    assert state_of(app)[0] == "active"  # a click never changes the enrollment's status


def test_the_open_pixel_is_a_gif_and_the_open_is_recorded_once(
        sent: tuple[App, TestClient, str]) -> None:
    app, client, run = sent
    token = TokenSigner(KEYS).open(run)

    pixel = client.get(f"/o/{token}")
    client.get(f"/o/{token}")

    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    assert pixel.content.startswith(b"GIF89a")
    with app.sessions() as session:
        assert len(session.scalars(select(Event).where(Event.kind == "open")).all()) == 1


def test_raw_mime_over_http_needs_the_token_and_is_taken_in_once(
        sent: tuple[App, TestClient, str]) -> None:
    _, client, _ = sent
    raw = (b"From: Ann <ann@acme.example>\r\nTo: ana@sender.example\r\n"
           b"Subject: Re: hello\r\nMessage-ID: <r1@acme.example>\r\n"
           b"Date: Tue, 24 Nov 2026 10:00:00 -0500\r\n\r\nYes, let's talk on Thursday.\r\n")

    assert client.post("/inbound/mime", content=raw).status_code == 401
    assert client.post("/inbound/mime", content=raw,
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.post("/inbound/mime", content=raw,
                     headers={"Authorization": "Bearer s3cret-token"})
    again = client.post("/inbound/mime", content=raw,
                        headers={"Authorization": "Bearer s3cret-token"})

    assert ok.status_code == 200 and ok.json()["kind"] == "reply"
    assert ok.json()["enrollments"][0]["status"] == "exited"
    assert again.json()["duplicate"] is True
    assert client.post("/inbound/mime", content=b"  ",
                       headers={"Authorization": "Bearer s3cret-token"}).status_code == 400
