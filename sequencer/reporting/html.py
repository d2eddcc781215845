"""The HTML report: one self-contained file (inline CSS and SVG, no script, no
network) for someone who never used the command line.

Order of the page: the headline figures, each with its definition in plain words;
reply rate by step and by variant (bars with interval whiskers); the local
weekday × hour heat map; week by week; the sections other modules add (funnel,
A/B verdicts); the reader's own breakdown; how everything is counted. Each chart
is followed by the same figures as a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from sequencer.reporting.charts import Bar, bar_chart, heat_map
from sequencer.reporting.dimensions import heading, label
from sequencer.reporting.formats import short
from sequencer.reporting.page import Page, Section
from sequencer.reporting.report import Figures, Report, Slice, slice_order
from sequencer.reporting.stats import TOO_SMALL, Rate

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
background:#fff;max-width:1100px;margin:0 auto;padding:24px;line-height:1.45}
h1{font-size:1.7rem;margin:0 0 4px}h2{font-size:1.3rem;margin:36px 0 8px;
border-bottom:2px solid #1f5fa8;padding-bottom:4px}h3{font-size:1.05rem;margin:20px 0 6px}
.scope{color:#4a4a4a;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:14px}
.card{border:1px solid #c8c8c8;border-radius:8px;padding:12px 14px}
.card .name{font-weight:600}.card .value{font-size:1.8rem;font-weight:700;color:#0b2545}
.card .ci{color:#3d3d3d;font-size:.9rem}.card p{margin:6px 0 0;font-size:.9rem;color:#333}
.warn{color:#8a3a00;font-weight:600}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.9rem}
th,td{border:1px solid #c8c8c8;padding:4px 8px;text-align:right}td{white-space:nowrap}
th{background:#eef3f9}td.key,th.key{text-align:left}
tr.total td{font-weight:700;background:#f6f6f6}
details{margin:6px 0 18px}summary{cursor:pointer;color:#0b4a8b}
.empty{color:#4a4a4a;font-style:italic}
dl dt{font-weight:600;margin-top:10px}dl dd{margin:2px 0 0 18px}
nav a{margin-right:14px;color:#0b4a8b}
h4{font-size:.95rem;margin:16px 0 4px}.verdict{margin:4px 0 18px}
.verdict.winner{color:#0b5a1e}
"""


def render_html(page: Page) -> str:
    """The whole page as one string."""
    total = page.total
    parts = [_head(total), _nav(page), _headline(total.total, total),
             _section("Reply rate by step", "steps", _steps(page.steps)),
             _section("Reply rate by variant", "variants", _variants(page.variants)),
             _section("When replies come: the prospect's local day and hour", "hours",
                      _heat(page)),
             _section("Week by week", "weeks", _weeks(page.weeks)),
             *(_section(s.title, s.anchor, s.html) for s in page.sections)]
    if page.chosen is not None:
        parts.append(_section(f"Your breakdown: by {' × '.join(page.chosen.by)}", "chosen",
                              table(page.chosen)))
    parts.append(_section("How these figures are counted", "definitions",
                          _definitions(total)))
    parts.append("</main></body></html>\n")
    return "".join(parts)


def _head(report: Report) -> str:
    scope = (f"sequence <strong>{escape(report.sequence)}</strong>" if report.sequence
             else "all sequences")
    since = f", emails sent since {report.since:%d %B %Y}" if report.since else ""
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Reply rates: sequencer report</title><style>{CSS}</style></head>"
            f"<body><main><h1>How our outreach is doing</h1>"
            f'<p class="scope">Reply rates for {scope}{since}. Made on '
            f"{report.generated_at:%d %B %Y at %H:%M} UTC.</p>")


def _nav(page: Page) -> str:
    links = [("steps", "By step"), ("variants", "By variant"), ("hours", "Day and hour"),
             ("weeks", "Week by week"), *((s.anchor, s.title) for s in page.sections),
             ("definitions", "Definitions")]
    items = "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in links)
    return f'<nav aria-label="Sections">{items}</nav>'


def _section(title: str, anchor: str, body: str) -> str:
    return f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{escape(title)}</h2>{body}' \
           "</section>"


def _headline(f: Figures, report: Report) -> str:
    hours = f.median_hours_to_reply
    cards = [
        _card("Reply rate", f.reply_rate, "of the people who received at least one of our "
              "emails wrote back. Out-of-office messages, bounces and unsubscribes are not "
              "replies."),
        _card("Positive reply rate", f.positive_rate, "wrote back with interest (marked "
              "positive by a rep, or by the team's phrase list)."),
        _card("Meetings booked", f.meeting_rate, "of the people reached booked a meeting."),
        _card("Bounce rate", f.bounce_rate, "of the emails sent came back undelivered."),
        _card("Unsubscribe rate", f.unsubscribe_rate, "of the people reached asked to "
              "hear no more."),
        _plain_card("Time to first reply", "–" if hours is None else f"{hours:.1f} hours",
                    "half of the emails that got an answer got it sooner than this after "
                    "they were sent."),
        _plain_card("Emails", f"{f.emails_sent:,} sent",
                    f"{f.emails_delivered:,} delivered to {f.prospects_delivered:,} people."),
    ]
    if f.open_rate is not None:
        cards.append(_card("Open rate (unreliable)", f.open_rate, "opened an email, as far "
                           "as a tracking image can tell: some mail apps open every image, "
                           "others block them. Do not compare it with replies."))
    return _section("The headline figures", "headline", f'<div class="cards">{"".join(cards)}'
                    "</div>")


def _card(name: str, rate: Rate, meaning: str) -> str:
    if rate.too_small:
        value = f'<div class="value">–</div><div class="warn">{TOO_SMALL} ' \
                f"({rate.numerator} of {rate.denominator})</div>"
    else:
        low, high = rate.interval
        value = (f'<div class="value">{(rate.value or 0) * 100:.1f}%</div>'
                 f'<div class="ci">{rate.numerator:,} of {rate.denominator:,}; likely between '
                 f"{low * 100:.1f}% and {high * 100:.1f}%</div>")
    return f'<div class="card"><div class="name">{escape(name)}</div>{value}' \
           f"<p>{escape(meaning)}</p></div>"


def _plain_card(name: str, value: str, meaning: str) -> str:
    return (f'<div class="card"><div class="name">{escape(name)}</div>'
            f'<div class="value">{escape(value)}</div><p>{escape(meaning)}</p></div>')


def _bars(report: Report, title: str) -> str:
    bars = [Bar(_row_label(report, s), s.figures.reply_rate) for s in _sorted(report.rows)]
    return bar_chart(title, bars) + _as_table(report)


def _steps(report: Report) -> str:
    return _bars(report, "Reply rate by sequence and step")


def _variants(report: Report) -> str:
    note = ("<p>A variant's rate counts the people who received that variant. Overlapping "
            "whiskers mean the difference may well be chance.</p>")
    return note + _bars(report, "Reply rate by sequence, step and variant")


def _heat(page: Page) -> str:
    report = page.heat
    cells = {(s.key["local_weekday"], s.key["local_hour"]): s.figures.reply_rate
             for s in report.rows if s.key["local_weekday"] is not None}
    intro = ("<p>Each square is the reply rate of the people delivered an email in that "
             "hour of their own day (their time zone, summer time included). Squares with "
             "too few people are grey: the day and the hour on their own follow.</p>")
    return (intro + heat_map("Reply rate by local weekday and hour", cells)
            + _as_table(report) + "<h3>By local weekday</h3>"
            + _bars(page.weekdays, "Reply rate by the prospect's local weekday")
            + "<h3>By local hour</h3>"
            + _bars(page.hours, "Reply rate by the prospect's local hour"))


def _weeks(report: Report) -> str:
    return _bars(report, "Reply rate by week the email was sent (weeks start on Monday)")


def _as_table(report: Report) -> str:
    return f"<details><summary>The figures as a table</summary>{table(report)}</details>"


def table(report: Report) -> str:
    """An accessible table of a breakdown: counts, rates, intervals, and the total."""
    head = "".join(f'<th scope="col" class="key">{escape(heading(k))}</th>'
                   for k in report.keys)
    head += "".join(f'<th scope="col">{h}</th>' for h in (
        "emails sent", "people reached", "replied", "reply rate [95% interval]",
        "positive", "bounce", "unsubscribe", "meetings", "median hours to first reply"))
    rows = "".join(_table_row([label(k, s.key[k]) for k in report.keys], s.figures, "")
                   for s in _sorted(report.rows))
    rows += _table_row(["all"] + [""] * (len(report.keys) - 1) if report.keys else [],
                       report.total, "total") if report.total.emails_sent else ""
    if not report.rows:
        return '<p class="empty">No emails in this scope yet.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _table_row(keys: Iterable[str], f: Figures, css: str) -> str:
    cells = "".join(f'<td class="key">{escape(k)}</td>' for k in keys)
    hours = "–" if f.median_hours_to_reply is None else f"{f.median_hours_to_reply:.1f}"
    values = (f"{f.emails_sent:,}", f"{f.prospects_delivered:,}", f"{f.replied:,}",
              short(f.reply_rate), short(f.positive_rate), short(f.bounce_rate),
              short(f.unsubscribe_rate), f"{f.meetings:,}", hours)
    cells += "".join(f"<td>{escape(v)}</td>" for v in values)
    return f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>"


def _definitions(report: Report) -> str:
    items = [
        ("Sent, delivered", "An email is sent when the mail server accepted it. It is "
         "delivered unless a hard bounce, soft bounce or block about it arrived after it was "
         "last sent (a delay warning is not a bounce)."),
        ("People reached (the base)", "The people delivered at least one email in the row. "
         "Someone who received emails from two variants counts in each variant's row, and "
         "once in the total."),
        ("Reply rate", "People who replied divided by people reached. Only replies written "
         "by a person count: out-of-office messages, bounces and unsubscribe requests never "
         "do. A reply belongs to the email it answers; when it answers none we can match, "
         "to the last email delivered to that person before it."),
        ("Positive and negative replies", "A rep's mark (sequencer record reply EMAIL "
         f"positive|negative) wins; otherwise the phrases in {escape(report.rules_source)} "
         "decide, negative phrases first, so 'not interested' never reads as 'interested'."),
        ("Bounce rate", "Emails bounced divided by emails sent."),
        ("Unsubscribes and meetings", "People who unsubscribed or booked a meeting, "
         "counted against the email before it, like replies."),
        ("Opens and clicks", "Shown only for sequences that track them, and unreliable: "
         "image proxies open every email, privacy features hide opens, link scanners click."),
        ("Intervals", "Each rate comes with a 95% Wilson interval: the range the true rate "
         "very likely lies in. Where fewer than "
         f"{report.minimum} people (or emails) make up the base, we say '{TOO_SMALL}' "
         "instead of a rate."),
        ("Local time", "Hours and weekdays are in each prospect's own time zone, daylight "
         "saving time included; weeks are the UTC week (Monday to Sunday) the email went "
         "out."),
    ]
    body = "".join(f"<dt>{escape(t)}</dt><dd>{d}</dd>" for t, d in items)
    return f"<dl>{body}</dl>"


def _row_label(report: Report, s: Slice) -> str:
    return " / ".join(label(k, s.key[k]) for k in report.keys)


def _sorted(rows: Iterable[Slice]) -> list[Slice]:
    return sorted(rows, key=slice_order)


__all__ = ["Section", "render_html", "table"]
