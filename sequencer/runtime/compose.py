"""Turning an engine ``SendEmail`` into the ``OutboundEmail`` a transport takes.

Shared by the per-run and the batch paths of the executor, so a message is built
one way only. ``prospect`` may be an ORM object or a Core row: only attributes
are read.

Every e-mail gets (RELIABILITY.md rule 7):

- ``List-Unsubscribe: <PUBLIC/u/TOKEN>, <mailto:LOCAL+unsubscribe@DOMAIN?subject=unsubscribe>``
  and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058). The token
  names the address and the run; the mailto reaches the sending mailbox itself
  (see ``sequencer.delivery.compliance``). Templates may show the same link as
  ``{{ unsubscribe_url }}``.
- Where the sequence asks (``compliance``), a footer in the text and HTML parts: the
  opt-out line with the https link (unless the body already shows it) and
  ``SEQUENCER_POSTAL_ADDRESS``. When the address is asked for but not configured, the
  footer goes without it and a warning is logged once per sequence configuration.

HTML: ``intro.html.j2`` beside ``intro.j2`` is rendered (autoescaped, same sandbox,
same context; a render error holds the step like a text render error) and the
message becomes multipart/alternative. Without one the e-mail stays plain text,
which is what a personal note looks like and what delivers best; only open
tracking, which needs an HTML part for its pixel, then adds an HTML version of the
text (escaped, paragraphs, links made clickable).

Tracking, where the sequence turns it on: ``clicks`` rewrites every http(s) link of
the text and the HTML to ``PUBLIC/c/TOKEN`` (the token signs the exact destination;
our own links are left alone); ``opens`` adds a 1×1 ``PUBLIC/o/TOKEN`` pixel to the
HTML.

What depends only on the settings and the sequence (the signer, the footer) is built
once and cached; per message there is the rendering and a few HMACs.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sequencer.definition.model import Compliance, Definition, Tracking
from sequencer.delivery import OutboundEmail, new_message_id
from sequencer.delivery.compliance import Footer, list_unsubscribe_headers
from sequencer.delivery.links import (
    Rewrite,
    insert_before_body_end,
    pixel,
    rewrite_html_links,
    rewrite_text_links,
    text_to_html,
)
from sequencer.delivery.tokens import TokenSigner, destination_problem
from sequencer.engine.actions import SendEmail
from sequencer.render import Renderer
from sequencer.render.context import template_context
from sequencer.settings import Settings, signing_keys

PROSPECT_FIELDS = ("email", "first_name", "last_name", "title", "company", "phone",
                   "linkedin_url", "city", "country", "timezone", "industry")
TEMPLATE_SUFFIX = ".j2"
HTML_TEMPLATE_SUFFIX = ".html.j2"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A run stored ``ready``: everything the hand-over needs, no ORM objects."""

    run_id: int
    attempt: int  # a stale attempt (its run was re-prepared since) may not hand over
    enrollment_id: int
    step: str
    transport: str
    email: OutboundEmail
    built: bytes | None = None  # the message as the transport sends it, built off the lane


def compose(renderer: Renderer, send: SendEmail, prospect: Any, mailbox: Any,
            run_key: str, message_id: str | None = None, *, settings: Settings,
            definition: Definition) -> OutboundEmail:
    """Render the email; ``message_id`` is kept when the run was prepared before.

    Raises:
        RenderError: a template (text or HTML) or the subject cannot be rendered for
            this prospect.
    """
    links = link_policy(settings, definition.compliance, definition.tracking)
    unsubscribe_url = links.unsubscribe_url(prospect.email, run_key)
    context = template_context(prospect_fields(prospect), sender=sender_fields(mailbox),
                               custom=prospect.custom, unsubscribe_url=unsubscribe_url)
    text = renderer.render_file(send.template, context)
    html = html_templates(renderer).render(send.template, context)
    subject = send.subject or ""
    if send.in_reply_to is None:  # a threaded subject is already rendered text
        subject = renderer.render_text(subject, context, name=f"subject of {send.step}")
    text, html = links.apply(text, html, run_key, unsubscribe_url)
    domain = mailbox.address.rsplit("@", 1)[-1]
    return OutboundEmail(
        message_id=message_id or new_message_id(domain), from_address=mailbox.address,
        from_name=mailbox.display_name, to_address=prospect.email,
        to_name=" ".join(p for p in (prospect.first_name, prospect.last_name) if p) or None,
        subject=subject.strip(), text_body=text, html_body=html, in_reply_to=send.in_reply_to,
        references=send.references,
        headers={"X-Sequencer-Key": run_key,
                 **list_unsubscribe_headers(unsubscribe_url, mailbox.address)},
    )


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """The links, tracking and footer of one sequence's e-mails under one configuration."""

    signer: TokenSigner
    base: str  # SEQUENCER_PUBLIC_URL, without a trailing slash
    footer: Footer | None
    clicks: bool
    opens: bool

    def unsubscribe_url(self, address: str, run_key: str) -> str:
        return f"{self.base}/u/{self.signer.unsubscribe(address, run_key)}"

    def apply(self, text: str, html: str | None, run_key: str, unsubscribe_url: str
              ) -> tuple[str, str | None]:
        """Tracking, then the footer (whose unsubscribe link is never tracked)."""
        if html is None and self.opens:
            html = text_to_html(text)
        if self.clicks:
            rewrite = self._click_rewrite(run_key)
            text = rewrite_text_links(text, rewrite)
            html = rewrite_html_links(html, rewrite) if html is not None else None
        if self.opens and html is not None:
            html = insert_before_body_end(
                html, pixel(f"{self.base}/o/{self.signer.open(run_key)}"))
        if self.footer is not None:
            text = self.footer.add_to_text(text, unsubscribe_url)
            html = self.footer.add_to_html(html, unsubscribe_url) if html is not None else None
        return text, html

    def _click_rewrite(self, run_key: str) -> Rewrite:
        """Each http(s) destination → its tracked link; ours and unsafe ones stay."""
        own = f"{self.base}/"
        made: dict[str, str | None] = {}

        def rewrite(url: str) -> str | None:
            if url not in made:
                tracked = not url.startswith(own) and destination_problem(url) is None
                made[url] = f"{self.base}/c/{self.signer.click(run_key, url)}" \
                    if tracked else None
            return made[url]

        return rewrite


@lru_cache(maxsize=16)
def signer_for(settings: Settings) -> TokenSigner:
    """The process's token signer for these settings (the key file is read once)."""
    return TokenSigner(signing_keys(settings))


@lru_cache(maxsize=256)
def link_policy(settings: Settings, compliance: Compliance, tracking: Tracking) -> LinkPolicy:
    """Built once per configuration and sequence settings: everything but the run."""
    if compliance.physical_address and settings.postal_address is None:
        log.warning("a sequence asks for the postal address in its footer, but "
                    "SEQUENCER_POSTAL_ADDRESS is not set: its e-mails go without one")
    footer = Footer(opt_out=compliance.unsubscribe_footer,
                    postal_address=settings.postal_address if compliance.physical_address
                    else None)
    return LinkPolicy(signer_for(settings), settings.public_url,
                      None if footer.empty else footer, tracking.clicks, tracking.opens)


class HtmlTemplates:
    """The HTML siblings of one renderer's templates: ``x.html.j2`` beside ``x.j2``.

    Rendered by a renderer of their own with autoescape on (merge fields cannot add
    markup) and otherwise the same sandbox, caps and errors. Whether a sibling exists
    is looked up once per template, as the renderer compiles each file once.
    """

    def __init__(self, text_renderer: Renderer) -> None:
        self.renderer = Renderer(text_renderer.root)
        self.renderer.env.autoescape = True
        self._siblings: dict[str, str | None] = {}

    def sibling(self, template: str) -> str | None:
        found = self._siblings.get(template, "")
        if found == "":
            found = None
            if template.endswith(TEMPLATE_SUFFIX):
                name = template[:-len(TEMPLATE_SUFFIX)] + HTML_TEMPLATE_SUFFIX
                found = name if (self.renderer.root / name).is_file() else None
            self._siblings[template] = found
        return found

    def render(self, template: str, context: dict[str, Any]) -> str | None:
        """The rendered HTML sibling of ``template``, or None when it has none.

        Raises:
            RenderError: as ``Renderer.render_file``.
        """
        name = self.sibling(template)
        return None if name is None else self.renderer.render_file(name, context)


_html_templates: weakref.WeakKeyDictionary[Renderer, HtmlTemplates] = \
    weakref.WeakKeyDictionary()
_html_templates_lock = threading.Lock()


def html_templates(renderer: Renderer) -> HtmlTemplates:
    """The HTML side of ``renderer``, made on first use and kept as long as it lives."""
    found = _html_templates.get(renderer)
    if found is None:
        with _html_templates_lock:
            found = _html_templates.get(renderer)
            if found is None:
                found = _html_templates[renderer] = HtmlTemplates(renderer)
    return found


def prospect_fields(prospect: Any) -> dict[str, str | None]:
    fields = {name: getattr(prospect, name) for name in PROSPECT_FIELDS}
    full = " ".join(p for p in (prospect.first_name, prospect.last_name) if p)
    fields["full_name"] = full or None
    return fields


def sender_fields(mailbox: Any) -> dict[str, str | None]:
    name = mailbox.display_name or mailbox.address.split("@")[0]
    return {"name": name, "email": mailbox.address, "first_name": name.split()[0],
            "signature": mailbox.signature or name}


def run_key(enrollment_id: int, step_id: str, round_: int) -> str:
    """The X-Sequencer-Key header: which run a message (or a bounce of it) belongs to."""
    return f"{enrollment_id}:{step_id}:{round_}"
