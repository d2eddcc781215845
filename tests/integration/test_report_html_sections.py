"""The HTML report's funnel and A/B sections (issue 5): drawn from a real store with
the cold cadence's A/B intro sent, answers taken in through the inbound path, calls
worked, meetings and stage changes recorded through the services the CLI uses."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from sequencer.cli.report_commands import report_command
from sequencer.clock import FakeClock
from sequencer.reporting.html import render_html
from sequencer.reporting.page import page_reports
from sequencer.services.actions import record_meeting, record_stage
from sequencer.services.app import App
from tests.integration.abtest_store import (  # noqa: F401 (a fixture)
    ab_store_fixture,
    answer,
    cold_copy,
    enroll,
    intros,
    send_intros,
)
from tests.integration.helpers import ROOT
from tests.integration.test_funnel import call

pytestmark = pytest.mark.integration
POSITIVE = "Interested, let's talk next week.\n\nAnn"


@pytest.fixture(autouse=True)
def _default_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The funnel reads ./lifecycle.yaml: run where there is none (unless a test writes one)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEQUENCER_LIFECYCLE", raising=False)


def sent(app: App, clock: FakeClock, tmp_path: Path, count: int
         ) -> dict[str, list[tuple[str, str]]]:
    """``count`` prospects sent the intro; (address, Message-ID) by variant."""
    enroll(app, cold_copy(tmp_path), tmp_path, "p", count)
    send_intros(app, clock)
    by_variant: dict[str, list[tuple[str, str]]] = {}
    for address, (variant, message_id, _) in sorted(intros(app).items()):
        by_variant.setdefault(variant, []).append((address, message_id))
    return by_variant


def section(html: str, anchor: str) -> str:
    start = html.index(f'<h2 id="{anchor}">')
    return html[start:html.index("</section>", start)]


def bar(svg: str, label: str) -> str:
    """The text drawn next to the funnel bar labelled ``label``: its count and its note."""
    found = re.search(rf">{re.escape(label)}</text><rect [^>]*/><text [^>]*>(.*?)</text>", svg)
    assert found, label
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_the_page_draws_the_funnel_and_judges_the_ab_test(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, clock = ab_store
    by_variant = sent(app, clock, tmp_path, 40)
    for address, message_id in by_variant["b"]:  # every b prospect says yes: b wins
        answer(app, address, message_id, POSITIVE)
    talked = [address for address, _ in by_variant["b"][:4]]
    call(app, talked[0], "connected", clock.now())
    call(app, talked[1], "no_answer", clock.now())
    call(app, talked[1], "connected", clock.now())
    call(app, by_variant["a"][0][0], "voicemail", clock.now())
    clock.set(clock.now() + timedelta(days=1))
    for address in talked[:3]:
        record_meeting(app, address)
    clock.set(clock.now() + timedelta(days=2))
    record_stage(app, talked[0], "SQL", value=12000)
    record_stage(app, talked[1], "SQL", value=8000, currency="EUR")
    clock.set(clock.now() + timedelta(days=4))
    record_stage(app, talked[0], "opportunity")
    clock.set(clock.now() + timedelta(days=6))
    record_stage(app, talked[0], "customer")

    html = render_html(page_reports(app))

    assert '<a href="#funnel">Funnel</a>' in html and '<a href="#abtests">' in html
    funnel = section(html, "funnel")
    svg = funnel[funnel.index("<svg"):funnel.index("</svg>")]
    assert "<title id=" in svg and "The sales funnel" in svg
    assert bar(svg, "Calls made") == "4 calls"
    assert bar(svg, "Calls connected") == ("2 calls · 50.0% of calls reached a person "
                                           "(2 of 4), too small a base")
    assert bar(svg, "Conversations").startswith(f"{len(by_variant['b'])} people")
    assert bar(svg, "Meetings booked").startswith("3 people · ")
    assert bar(svg, "Reached SQL") == ("2 people · 66.7% of meetings got this far (2 of 3), "
                                       "too small a base")
    assert bar(svg, "Reached opportunity") == "1 person"
    assert bar(svg, "Won (customer)").startswith("1 person · 100.0% of opportunities won")
    # stage velocity: SQL lasted 4 days, opportunity 6; the open pipeline is the EUR deal
    assert "<td>4.0 days (1 measured; 1 now)</td>" in funnel
    assert "<td>6.0 days (1 measured; 0 now)</td>" in funnel
    assert "<td>8,000 EUR</td>" in funnel

    ab = section(html, "abtests")
    assert "<h3>cold-outbound</h3>" in ab and "<h4>Step intro</h4>" in ab
    reached_b = len(by_variant["b"])
    assert (f"<td>{reached_b}</td><td>100.0% ({reached_b} of {reached_b}; likely"
            in ab)  # every b prospect replied
    assert re.search(r'<p class="verdict winner"><strong>Verdict:</strong> b beats a on '
                     r"positive replies \(p &lt; 0\.001, &gt;99% probability best\)", ab)
    assert '<td class="key">b (winner), weight 50</td>' in ab
    assert "<th scope=\"col\">chance of being best on positive replies</th>" in ab
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # no script, nothing fetched


def test_with_nothing_after_the_emails_the_page_says_so(
        ab_store: tuple[App, FakeClock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, clock = ab_store
    sent(app, clock, tmp_path, 10)
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", app.engine.url.render_as_string(
        hide_password=False))
    (tmp_path / "templates").symlink_to(ROOT / "templates")  # the CLI reads ./sequences too
    out = tmp_path / "report.html"

    shown = CliRunner().invoke(report_command, ["--format", "html", "--output", str(out)])

    assert shown.exit_code == 0, shown.output
    html = out.read_text("utf-8")
    funnel = section(html, "funnel")
    assert "Nothing has been recorded after the emails yet" in funnel
    assert "<svg" not in funnel
    ab = section(html, "abtests")
    assert "<h4>Step intro</h4>" in ab
    assert re.search(r'<p class="verdict not_enough_data"><strong>Verdict:</strong> not enough '
                     r"data yet: each arm needs about [\d,]+ more delivered\.</p>", ab)


def test_an_empty_store_gets_a_page_that_says_there_is_nothing_yet(
        ab_store: tuple[App, FakeClock]) -> None:
    app, _ = ab_store

    html = render_html(page_reports(app))

    assert "Nothing has been recorded after the emails yet" in section(html, "funnel")
    assert "No sequence has a step with variants yet" in section(html, "abtests")
    one = section(render_html(page_reports(app, sequence="cold-outbound")), "abtests")
    assert "Its A/B tests could not be read: no sequence named &#x27;cold-outbound&#x27;" in one


def test_names_are_escaped_and_a_bad_lifecycle_is_said_not_fatal(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, clock = ab_store
    by_variant = sent(app, clock, tmp_path, 4)
    lifecycle = tmp_path / "lifecycle.yaml"
    lifecycle.write_text('stages: [lead, "R&D <review>", SQL, opportunity, customer]\n',
                         "utf-8")
    record_stage(app, by_variant["a"][0][0], "r&d <review>")

    funnel = section(render_html(page_reports(app)), "funnel")

    assert '<td class="key">R&amp;D &lt;review&gt;</td>' in funnel
    assert "<review>" not in funnel
    lifecycle.write_text("stages: [lead, SQL]\n", "utf-8")  # no opportunity, no customer

    funnel = section(render_html(page_reports(app)), "funnel")

    assert '<p class="warn">The funnel could not be computed: ' in funnel
    assert "is not one of the stages" in funnel
