"""The new text of a reply: without quoted history and signature.

Two kinds of history are recognised:

* **quoted** history: ``>`` lines, with the attribution line that introduces them ("On
  Mon, 2 Apr 2012 at 18:26, Bob <bob@example.com> wrote:", "Le … a écrit :", "Am …
  schrieb …:", "El … escribió:", "Em … escreveu:", "Op … schreef …:", "Il … ha
  scritto:", or any short line ending in ":" that names an address or a time). These
  are removed wherever they are, so text written between quotes (inline answers, or
  below the quote) is kept;
* **unquoted** history: an Outlook header block ("From: … Sent: … To: … Subject:" in
  the seven languages), an "-----Original Message-----" or forwarding banner, or an
  attribution line with no ``>`` lines after it. Everything from there on is history.

The signature is removed afterwards by :mod:`sequencer.inbound.signature`. Work is
linear in the text, which is cut at ``MAX_CHARS``.
"""

from __future__ import annotations

import re

from sequencer.inbound.signature import strip_signature
from sequencer.inbound.textfold import fold

MAX_CHARS = 100_000  # a reply is read from its top; beyond this it is history or noise
MAX_ATTRIBUTION_LINES = 3  # "On <date>, <name>\n<address>\nwrote:" is the longest seen
MAX_ATTRIBUTION_CHARS = 400
HEADER_BLOCK_LINES = 8  # how far an Outlook header block is read from its first line

_QUOTED = re.compile(r"^[ \t]{0,3}>")
_RULE = re.compile(r"^\s*[-_=*]{5,}\s*$")
_OPENER = re.compile(r"^\s*(?:on|le|am|el|em|op|il|den)\s", re.IGNORECASE)
_VERB = re.compile(
    r"(?:\bwrote|\bwrites|\ba ecrit|\bschrieb|\bescribio|\bescreveu|\bschreef|\bha scritto"
    r"|\bscrisse|\bskrev|\bkirjoitti|\bnapisal|\bhet volgende geschreven|написал|написала"
    r"|пишет)\b"
)
_ADDRESS_OR_TIME = re.compile(r"@|\b\d{1,2}:\d{2}\b|\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b")
_DIGIT_OR_ADDRESS = re.compile(r"@|\d")
_SENTENCE_END = re.compile(r"[.!?]\s*$")

_BANNER = re.compile(
    r"^\s*-*\s*(?:original message|message d'origine|ursprungliche nachricht"
    r"|original ?nachricht|mensaje original|mensagem original|oorspronkelijk bericht"
    r"|origineel bericht|messaggio originale|forwarded message|message transfere"
    r"|weitergeleitete nachricht|mensaje reenviado|mensagem encaminhada"
    r"|doorgestuurd bericht|messaggio inoltrato)\s*-*\s*$"
    r"|^\s*(?:begin forwarded message|debut du message reexpedie|anfang der weitergeleiteten"
    r" nachricht|inicio del mensaje reenviado|inicio da mensagem (?:re)?encaminhada"
    r"|begin doorgestuurd bericht|inizio messaggio inoltrato)\s*:\s*$"
)

# The keys of an Outlook-style header block, folded, by the field they name.
_HEADER_KEYS: dict[str, tuple[str, ...]] = {
    "from": ("from", "de", "von", "van", "da", "fra", "fran", "od", "от"),
    "sent": ("sent", "date", "envoye", "datum", "gesendet", "enviado", "enviada",
             "enviado el", "enviada em", "verzonden", "verstuurd", "inviato", "data", "fecha"),
    "to": ("to", "a", "an", "para", "aan", "per", "cc", "cci", "kopie"),
    "subject": ("subject", "objet", "betreff", "asunto", "assunto", "onderwerp", "oggetto",
                "amne", "тема"),
}
_HEADER_LINE = re.compile(
    r"^[\s*_]{0,4}(" + "|".join(sorted({re.escape(key) for keys in _HEADER_KEYS.values()
                                        for key in keys}, key=len, reverse=True))
    + r")[*_]{0,2} ?:[*_]{0,2}(?:\s|$)"
)
_FIELD_OF = {key: field for field, keys in _HEADER_KEYS.items() for key in keys}


def reply_text(text: str) -> str:
    """What the person wrote, with quoted history and signature removed.

    Parameters:
        text: the plain-text body of a reply, as decoded from the message.

    Returns:
        The new text, stripped of surrounding white space; "" when it is all history.
    """
    return strip_signature(strip_quoted(text)).strip()


def strip_quoted(text: str) -> str:
    """``text`` without its quoted and unquoted history (the signature is kept)."""
    lines = text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    folded = fold("\n".join(lines)).split("\n")
    if len(folded) != len(lines):  # a character that folds into a line break: read as is
        folded = [line.lower() for line in lines]
    dropped = [bool(_QUOTED.match(line)) for line in lines]
    end = len(lines)
    for index in range(len(lines)):
        if index >= end or dropped[index]:
            continue
        if _BANNER.match(folded[index]) or _header_block_at(folded, index):
            end = _back_over_rules(lines, index)
            break
        start, named = _attribution_start(folded, dropped, index)
        if start is None:
            continue
        if _quote_follows(lines, dropped, index):
            for line in range(start, index + 1):
                dropped[line] = True
        elif named:  # "On ... wrote:" with the history below it unquoted
            end = _back_over_rules(lines, start)
            break
    return _join(lines[:end], dropped[:end])


def _attribution_start(
        folded: list[str], dropped: list[bool], last: int) -> tuple[int | None, bool]:
    """The first line of an attribution that ends on line ``last`` (or None), and whether
    it names the writing ("wrote", "a écrit"...) rather than only looking like one."""
    if not folded[last].rstrip().endswith((":", "wrote", "schrieb", "schreef")):
        return None, False
    first = last
    while (first > 0 and last - first + 1 < MAX_ATTRIBUTION_LINES
           and not dropped[first - 1] and folded[first - 1].strip()
           and not _SENTENCE_END.search(folded[first - 1])):
        first -= 1
    # Of the candidate starts, the earliest opener ("On", "Le", "Am"...) wins; without
    # one, earlier lines belong only if they name an address or a time.
    for start in range(first, last + 1):
        window = " ".join(line.strip() for line in folded[start:last + 1])
        if len(window) > MAX_ATTRIBUTION_CHARS or not _DIGIT_OR_ADDRESS.search(window):
            continue
        if _OPENER.match(window) and _VERB.search(window):
            return start, True
        if window.endswith(":") and _VERB.search(window) and _ADDRESS_OR_TIME.search(
                folded[start]):
            return start, True
    window = folded[last].strip()
    if window.endswith(":") and _VERB.search(window) and _DIGIT_OR_ADDRESS.search(window):
        return last, True
    return _generic_attribution_start(folded, first, last), False


def _generic_attribution_start(folded: list[str], first: int, last: int) -> int | None:
    """An attribution in a language without a known verb: a line ending in ":" naming
    an address or a time (kept only when ``>`` lines follow, see the caller)."""
    if not folded[last].rstrip().endswith(":"):
        return None
    for start in range(first, last + 1):
        window = " ".join(line.strip() for line in folded[start:last + 1])
        if len(window) <= MAX_ATTRIBUTION_CHARS and _ADDRESS_OR_TIME.search(folded[start]):
            return start
    return None


def _quote_follows(lines: list[str], dropped: list[bool], index: int) -> bool:
    for following in range(index + 1, min(len(lines), index + 6)):
        if lines[following].strip():
            return dropped[following] and bool(_QUOTED.match(lines[following]))
    return False


def _header_block_at(folded: list[str], index: int) -> bool:
    """Whether an Outlook-style block of at least three header fields, From among them,
    starts on line ``index``."""
    fields: set[str] = set()
    misses = 0
    for line in folded[index:index + HEADER_BLOCK_LINES]:
        match = _HEADER_LINE.match(line)
        if match is None:
            if not fields:
                return False
            misses += 1  # a long To: line wrapped onto the next one
            if misses > 1 or not line.strip():
                break
            continue
        fields.add(_FIELD_OF[match.group(1)])
    return "from" in fields and len(fields) >= 3


def _back_over_rules(lines: list[str], index: int) -> int:
    """``index`` moved up over the blank lines and rules that introduce a history block."""
    while index > 0 and (not lines[index - 1].strip() or _RULE.match(lines[index - 1])):
        index -= 1
    return index


def _join(lines: list[str], dropped: list[bool]) -> str:
    """The kept lines; where lines were dropped between two kept ones, one blank line."""
    kept: list[str] = []
    gap = False
    for line, drop in zip(lines, dropped, strict=True):
        if drop:
            gap = True
            continue
        if gap and not line.strip():
            continue
        if gap and kept:
            while kept and not kept[-1].strip():
                kept.pop()
            kept.append("")
        gap = False
        kept.append(line)
    return "\n".join(kept)
