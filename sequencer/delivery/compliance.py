"""What every automated e-mail must carry to be honest and deliverable.

- RFC 8058 one-click unsubscribe: ``List-Unsubscribe`` with an https link (a POST
  there unsubscribes, no login) and a mailto fallback, plus
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. Both must be covered by the
  DKIM signature (``sequencer.delivery.dkim`` signs them).
- The mailto goes to the sender's own mailbox under a ``+unsubscribe`` sub-address
  (``ana@acme.example`` → ``ana+unsubscribe@acme.example``, subject ``unsubscribe``).
  The inbound side recognises such mail with ``is_unsubscribe_address`` on the
  recipient and suppresses the *sender* of that mail. Plus-addressing reaches the
  mailbox itself on Gmail, Microsoft 365, Fastmail and Postfix with
  ``recipient_delimiter = +``.
- The footer (CAN-SPAM): an opt-out line with the https link and the sender's postal
  address, in the text and the HTML part, where the sequence asks for them.

Pure: strings in, strings out; built once per configuration (``Footer``), so that
per message only the link is put in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from sequencer.delivery.links import insert_before_body_end

UNSUBSCRIBE_TAG = "unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"
OPT_OUT_TEXT = "Not interested? Unsubscribe with one click:"
OPT_OUT_HTML = "Not interested? <a href=\"{url}\">Unsubscribe with one click</a>."


def unsubscribe_mailto(sender: str) -> str:
    """``mailto:local+unsubscribe@domain?subject=unsubscribe`` for the sending address."""
    local, _, domain = sender.rpartition("@")
    return f"mailto:{local}+{UNSUBSCRIBE_TAG}@{domain}?subject={UNSUBSCRIBE_TAG}"


def is_unsubscribe_address(address: str) -> bool:
    """Whether mail to ``address`` is an unsubscribe request sent through our mailto."""
    local, at, _ = address.strip().strip("<>").rpartition("@")
    return bool(at) and local.lower().endswith(f"+{UNSUBSCRIBE_TAG}")


def list_unsubscribe_headers(https_url: str, sender: str) -> dict[str, str]:
    """The two RFC 8058 headers: the one-click URL first, the mailto second."""
    return {
        "List-Unsubscribe": f"<{https_url}>, <{unsubscribe_mailto(sender)}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }


@dataclass(frozen=True, slots=True)
class Footer:
    """The compliance footer of a sequence's e-mails, prepared once.

    Parameters:
        opt_out: add the one-click unsubscribe line (left out of a body that already
            shows the link, as a template may do with ``{{ unsubscribe_url }}``).
        postal_address: the sender's postal address, one line per line; None leaves
            it out.
    """

    opt_out: bool
    postal_address: str | None
    _address_text: str = field(init=False, repr=False)
    _address_html: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lines = [line.strip() for line in (self.postal_address or "").splitlines()]
        lines = [line for line in lines if line]
        object.__setattr__(self, "_address_text", "".join(f"{line}\n" for line in lines))
        object.__setattr__(self, "_address_html", "<br>".join(escape(x) for x in lines))

    @property
    def empty(self) -> bool:
        return not (self.opt_out or self._address_text)

    def add_to_text(self, body: str, url: str) -> str:
        """``body`` with the footer after a blank line."""
        lines = ""
        if self.opt_out and url not in body:
            lines = f"{OPT_OUT_TEXT} {url}\n"
        lines += self._address_text
        if not lines:
            return body
        return f"{body.rstrip()}\n\n{lines}"

    def add_to_html(self, html: str, url: str) -> str:
        """``html`` with the footer as a small paragraph before ``</body>``."""
        parts = []
        if self.opt_out and escape(url, quote=True) not in html:
            parts.append(OPT_OUT_HTML.format(url=escape(url, quote=True)))
        if self._address_html:
            parts.append(self._address_html)
        if not parts:
            return html
        return insert_before_body_end(
            html, '<p style="font-size:12px;color:#666666">' + "<br>".join(parts) + "</p>")
