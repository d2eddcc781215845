"""What every sequence e-mail carries on the wire: RFC 8058 headers, the compliance
footer, a DKIM signature, threading, and tracking links only where the sequence asks.

The end-to-end tests run sequences through the real store and executor and send over
SMTP to an aiosmtpd sink in process, with a DKIM key on the mailbox's transport URL;
the sink's bytes are verified with dkimpy against the public key. The tests of
``compose`` alone need no database.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dkim
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sequencer.clock import FakeClock
from sequencer.definition.model import Compliance, Definition, Tracking
from sequencer.delivery import build_mime
from sequencer.delivery.compliance import is_unsubscribe_address
from sequencer.delivery.headers import FORBIDDEN_CHARACTERS
from sequencer.delivery.tokens import TokenSigner
from sequencer.engine.actions import SendEmail
from sequencer.errors import HeaderInjectionError
from sequencer.render import Renderer
from sequencer.runtime.compose import compose
from sequencer.runtime.embedded import drain
from sequencer.runtime.transports import close_all
from sequencer.services.app import App, bootstrap
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.settings import Settings
from sequencer.store.models import StepRun, Task
from tests.integration.dkim_keys import throwaway_key
from tests.integration.helpers import MONDAY, write_csv
from tests.integration.smtp_sink import FreePortController
from tests.unit.engine_helpers import definition

pytestmark = pytest.mark.integration
KEYS = ("0f1e2d3c4b5a69788796a5b4c3d2e1f0-new", "retired-key-still-verifies-0123")
PUBLIC = "https://links.acme.example"
POSTAL = "Acme Inc.\n1 Main Street\nSpringfield, IL 62701"
SIGNER = TokenSigner(KEYS)
SENDER = "ana@acme.example"
PRICING = "https://acme.example/pricing?plan=team&utm=seq"

SEQUENCE = """\
name: {name}
schedule: {{windows: {{daily: ["00:00-24:00"]}}, holidays: none}}
compliance: {{unsubscribe_footer: true, physical_address: true}}
tracking: {{opens: {track}, clicks: {track}}}
steps:
  - {{id: intro, type: email, template: intro.j2, subject: "{{{{ prospect.company }}}} and you"}}
  - {{id: bump, type: email, wait: 1 day, thread: intro, template: bump.j2}}
  - {{id: nudge, type: email, wait: 1 day, thread: intro, template: bump.j2}}
  - {{id: breakup, type: email, wait: 1 day, thread: intro, template: breakup.j2}}
"""
TEMPLATES = {
    "intro.j2": "Hi {{ prospect.first_name }},\n\nOur plans: " + PRICING + ".\n\nAna\n",
    "intro.html.j2": ('<!DOCTYPE html><html><body><p>Hi {{ prospect.first_name }},</p>'
                      '<p>Our <a href="' + PRICING.replace("&", "&amp;") + '">plans</a>, '
                      '<a href="mailto:ana@acme.example">mail me</a>.</p></body></html>\n'),
    "bump.j2": "Bumping this, {{ prospect.first_name }}: https://acme.example/demo\n",
    "breakup.j2": "Last note. Unsubscribe any time: {{ unsubscribe_url }}\n",
}


@dataclass
class Sink:
    """Keeps every message the SMTP server accepted, as the bytes it received."""

    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    yield handler, controller.port
    close_all()
    controller.stop()


@pytest.fixture
def apps() -> Iterator[list[App]]:
    """Apps made by a test, closed after it (their pools hold connections)."""
    made: list[App] = []
    yield made
    for app in made:
        app.close()


def make_app(database_url: str, tmp_path: Path, templates: dict[str, str] = TEMPLATES
             ) -> tuple[App, FakeClock]:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text, "utf-8")
    clock = FakeClock(MONDAY)
    settings = Settings(database_url=database_url, secret_keys=KEYS, public_url=PUBLIC + "/",
                        postal_address=POSTAL)
    return bootstrap(settings, clock=clock, templates=folder), clock


def run(database_url: str, tmp_path: Path, port: int, apps: list[App], *, track: bool,
        templates: dict[str, str] = TEMPLATES) -> App:
    """Enroll Ann in a four-step threaded sequence and let the runtime send it all."""
    app, clock = make_app(database_url, tmp_path, templates)
    apps.append(app)
    key = throwaway_key().write(tmp_path)
    add_mailbox(app, SENDER, daily_cap=100, display_name="Ana Ruiz",
                transport=f"smtp://127.0.0.1:{port}?dkim_key={key}&dkim_selector=s1")
    sequence = tmp_path / "seq.yaml"
    sequence.write_text(SEQUENCE.format(name="tracked" if track else "plain",
                                        track=str(track).lower()), "utf-8")
    enroll_csv(app, sequence, write_csv(tmp_path / "p.csv", "email,first_name,company",
                                        "ann@globex.example,Ann,Globex"), mailbox=SENDER)
    drain(app, clock, until=MONDAY + timedelta(days=7))
    return app


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def text_of(message: email.message.EmailMessage, kind: str = "plain") -> str:
    body = message.get_body((kind,))
    assert body is not None, f"no text/{kind} part"
    return str(body.get_content()).replace("\r\n", "\n")


def verifies(data: bytes) -> bool:
    return bool(dkim.verify(data, dnsfunc=throwaway_key().dns("s1", "acme.example")))


def unsubscribe_links(message: email.message.EmailMessage) -> tuple[str, str]:
    found = re.fullmatch(r"<(https://[^>]+)>, <(mailto:[^>]+)>", str(message["List-Unsubscribe"]))
    assert found is not None, message["List-Unsubscribe"]
    return found.group(1), found.group(2)


def token_of(url: str, kind: str) -> str:
    prefix = f"{PUBLIC}/{kind}/"
    assert url.startswith(prefix), url
    return url[len(prefix):]


# --- end to end: the runtime, SMTP and DKIM -----------------------------------------


def test_every_email_carries_one_click_headers_the_footer_and_a_valid_dkim_signature(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int], apps: list[App]) -> None:
    handler, port = sink
    run(database_url, tmp_path, port, apps, track=False)

    assert len(handler.received) == 4
    for data in handler.received:
        message = parse(data)
        https, mailto = unsubscribe_links(message)
        who = SIGNER.read_unsubscribe(token_of(https, "u"))
        assert (who.address, who.run_key) == ("ann@globex.example",
                                              str(message["X-Sequencer-Key"]))
        assert mailto == "mailto:ana+unsubscribe@acme.example?subject=unsubscribe"
        assert is_unsubscribe_address(mailto[len("mailto:"):].split("?")[0])
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert verifies(data)
        signature = re.sub(r"\s+", "", str(message["DKIM-Signature"]))
        signed = re.search(r"(?:^|;)h=([^;]+)", signature)
        assert signed is not None
        assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(signed.group(1).split(":"))
        assert "d=acme.example" in signature.split(";")
        body = text_of(message)
        assert body.count(https) == 1  # the footer's, or the template's own link
        assert "Acme Inc.\n1 Main Street\nSpringfield, IL 62701\n" in body
    intro = parse(handler.received[0])
    assert text_of(intro).endswith(
        f"Ana\n\nNot interested? Unsubscribe with one click: {unsubscribe_links(intro)[0]}\n"
        f"{POSTAL}\n")


def test_with_tracking_off_links_stay_as_written_and_there_is_no_pixel(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int], apps: list[App]) -> None:
    handler, port = sink
    run(database_url, tmp_path, port, apps, track=False)

    intro, bump = (parse(data) for data in handler.received[:2])
    assert f"Our plans: {PRICING}." in text_of(intro)
    assert "https://acme.example/demo" in text_of(bump)
    assert bump.get_content_type() == "text/plain"  # no HTML template, nothing needs one
    html = text_of(intro, "html")  # intro.html.j2 exists: multipart, as written
    assert f'href="{PRICING.replace("&", "&amp;")}"' in html
    assert "/c/" not in html and "/o/" not in html and "<img" not in html


def test_with_tracking_on_links_and_a_pixel_carry_signed_tokens(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int], apps: list[App]) -> None:
    handler, port = sink
    run(database_url, tmp_path, port, apps, track=True)

    assert len(handler.received) == 4
    for data in handler.received:
        assert verifies(data)
    intro = parse(handler.received[0])
    run_key = str(intro["X-Sequencer-Key"])
    html, text = text_of(intro, "html"), text_of(intro)
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]
    clicks = [SIGNER.read_click(token_of(h, "c")) for h in hrefs if "/c/" in h]
    assert [(c.run_key, c.url) for c in clicks] == [(run_key, PRICING)]
    assert "mailto:ana@acme.example" in hrefs  # only http(s) links are tracked
    unsubscribe = unsubscribe_links(intro)[0]
    assert unsubscribe in hrefs  # the footer's opt-out link is never tracked
    pixels = re.findall(r'<img src="([^"]+)" width="1" height="1"', html)
    assert [SIGNER.read_open(token_of(p, "o")).run_key for p in pixels] == [run_key]
    assert PRICING not in text
    tracked = re.search(rf"Our plans: ({re.escape(PUBLIC)}/c/\S+)\.\n", text)
    assert tracked is not None
    assert SIGNER.read_click(token_of(tracked.group(1), "c")).url == PRICING
    assert f"{POSTAL.splitlines()[0]}<br>{POSTAL.splitlines()[1]}" in html
    bump = parse(handler.received[1])  # no HTML template: an HTML version for the pixel
    assert bump.get_content_type() == "multipart/alternative"
    assert "https://acme.example/demo" not in text_of(bump)
    assert 'width="1" height="1"' in text_of(bump, "html")
    breakup = parse(handler.received[3])  # its own {{ unsubscribe_url }} is left alone
    assert unsubscribe_links(breakup)[0] in text_of(breakup)
    assert "/c/" not in text_of(breakup)


def test_four_threaded_steps_reply_under_re_with_the_whole_chain(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int], apps: list[App]) -> None:
    handler, port = sink
    run(database_url, tmp_path, port, apps, track=False)

    messages = [parse(data) for data in handler.received]
    ids = [str(m["Message-ID"]) for m in messages]
    assert [str(m["Subject"]) for m in messages] == ["Globex and you"] + ["Re: Globex and you"] * 3
    assert messages[0]["In-Reply-To"] is None and messages[0]["References"] is None
    for n in range(1, 4):
        assert messages[n]["In-Reply-To"] == ids[n - 1]
        assert str(messages[n]["References"]).split() == ids[:n]
    assert len(set(ids)) == 4 and all(i.endswith("@acme.example>") for i in ids)


def test_an_html_template_that_fails_to_render_holds_the_step_and_sends_nothing(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int], apps: list[App]) -> None:
    handler, port = sink
    broken = {**TEMPLATES, "intro.html.j2": "<p>Hi {{ prospect.title }}</p>"}  # no fallback

    app = run(database_url, tmp_path, port, apps, track=False, templates=broken)

    assert handler.received == []
    with app.sessions() as session:
        held = session.scalars(select(StepRun)).one()
        task = session.scalars(select(Task)).one()
    assert (held.step_id, held.state) == ("intro", "held")
    assert "intro.html.j2" in str(held.error) and "prospect.title" in str(held.error)
    assert task.kind == "fix_template"


# --- compose on its own ---------------------------------------------------------------

PLAIN = definition("""
    name: plain
    schedule: {windows: {daily: ["00:00-24:00"]}, holidays: none}
    steps:
      - {id: intro, type: email, template: intro.j2, subject: "Hi {{ prospect.company }}"}
""")
SETTINGS = Settings(secret_keys=KEYS, public_url=PUBLIC, postal_address=POSTAL)
MAILBOX = SimpleNamespace(address=SENDER, display_name="Ana Ruiz", signature=None)
SEND = SendEmail(step="intro", round=1, variant="", template="intro.j2",
                 subject="Hi {{ prospect.company | default('there') }}")


def prospect(**fields: Any) -> SimpleNamespace:
    base = {name: None for name in ("first_name", "last_name", "title", "company", "phone",
                                    "linkedin_url", "city", "country", "timezone",
                                    "industry")}
    return SimpleNamespace(**{**base, "email": "ann@globex.example", "custom": {}, **fields})


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    folder = tmp_path_factory.mktemp("templates")
    (folder / "intro.j2").write_text("Hi {{ prospect.first_name | default('there') }}, "
                                     "{{ prospect.company | default('') }}\n", "utf-8")
    (folder / "intro.html.j2").write_text(
        "<p>Hi {{ prospect.first_name | default('there') }} from "
        "{{ prospect.company | default('') }}</p>\n", "utf-8")
    (folder / "text_only.j2").write_text("Visit https://acme.example/a.\n", "utf-8")
    return Renderer(folder)


def composed(renderer: Renderer, who: SimpleNamespace, *, definition: Definition = PLAIN,
             settings_: Settings = SETTINGS, send: SendEmail = SEND) -> email.message.EmailMessage:
    outbound = compose(renderer, send, who, MAILBOX, "7:intro:1", "<m1@acme.example>",
                       settings=settings_, definition=definition)
    return parse(build_mime(outbound))


def test_merge_fields_cannot_add_markup_to_the_html_part(renderer: Renderer) -> None:
    message = composed(renderer, prospect(first_name="<script>x</script>",
                                          company="Hooli & Söhne"))

    html = text_of(message, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Hooli &amp; Söhne" in html
    assert "Hi <script>x</script>, Hooli & Söhne" in text_of(message)


def test_without_footer_or_address_the_body_is_the_template_but_the_headers_stay(
        renderer: Renderer) -> None:
    quiet = replace(PLAIN, compliance=Compliance(unsubscribe_footer=False,
                                                 physical_address=False))

    message = composed(renderer, prospect(first_name="Ann"), definition=quiet)

    assert text_of(message) == "Hi Ann, \n"
    assert text_of(message, "html") == "<p>Hi Ann from </p>\n"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_links(message)[0].startswith(f"{PUBLIC}/u/")


def test_a_missing_postal_address_is_left_out_with_a_warning(
        renderer: Renderer, caplog: pytest.LogCaptureFixture) -> None:
    unset = replace(SETTINGS, postal_address=None, public_url="https://other.example")
    with caplog.at_level(logging.WARNING, logger="sequencer.runtime.compose"):
        message = composed(renderer, prospect(first_name="Ann"), settings_=unset)

    assert text_of(message).endswith("Not interested? Unsubscribe with one click: "
                                      f"{unsubscribe_links(message)[0]}\n")
    assert "SEQUENCER_POSTAL_ADDRESS" in caplog.text


def test_open_tracking_alone_gives_a_text_template_an_html_version_with_the_pixel(
        renderer: Renderer) -> None:
    opens = replace(PLAIN, tracking=Tracking(opens=True, clicks=False))
    send = replace(SEND, template="text_only.j2")

    message = composed(renderer, prospect(), definition=opens, send=send)

    html = text_of(message, "html")
    assert '<p>Visit <a href="https://acme.example/a">https://acme.example/a</a>.</p>' in html
    assert html.index('width="1" height="1"') < html.index("Not interested?")
    assert "Visit https://acme.example/a." in text_of(message)


WORD = st.text(st.characters(exclude_categories=["Cs"],
                             exclude_characters=FORBIDDEN_CHARACTERS), min_size=1, max_size=30
               ).filter(lambda s: s.strip() != "")
BREAK = st.sampled_from(sorted(FORBIDDEN_CHARACTERS))


@settings(max_examples=60)
@given(WORD, WORD, BREAK)
def test_a_line_break_in_a_merge_field_can_never_inject_a_header(
        renderer: Renderer, before: str, after: str, bad: str) -> None:
    broken = before + bad + after
    with pytest.raises(HeaderInjectionError):
        composed(renderer, prospect(first_name=broken, company="Globex"))  # in To
    with pytest.raises(HeaderInjectionError):
        composed(renderer, prospect(first_name="Ann", company=broken))  # in Subject


@settings(max_examples=60)
@given(WORD, WORD, st.booleans())
def test_accepted_merge_fields_give_exactly_the_intended_headers(
        renderer: Renderer, first: str, company: str, track: bool) -> None:
    tracking = Tracking(opens=track, clicks=track)
    try:
        message = composed(renderer, prospect(first_name=first, company=company),
                           definition=replace(PLAIN, tracking=tracking))
    except HeaderInjectionError:
        assert "=?" in first + company  # an encoded word that decodes to a line break
        return
    assert set(message.keys()) == {
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "X-Sequencer-Key", "List-Unsubscribe", "List-Unsubscribe-Post"}
    assert message["X-Sequencer-Key"] == "7:intro:1"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
