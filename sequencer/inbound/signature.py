"""The signature at the end of a reply, found conservatively so the body is never cut.

Three shapes are removed, from the end of the text:

* a ``-- `` delimiter line (also written ``--``) followed by a short block;
* a mobile client's line: "Sent from my iPhone", "Envoyé de mon iPhone", "Von meinem
  iPhone gesendet", "Enviado desde mi móvil", "Get Outlook for iOS"...;
* the name, title, company, phone and address lines after a sign-off line ("Best,",
  "Thanks,", "Cordialement,", "Mit freundlichen Grüßen"...). The sign-off itself is
  kept: it was written by the person; what follows it is a business card.

A block is only removed when it is short and every line of it looks like a signature
line; anything that reads like a sentence keeps the block in place.
"""

from __future__ import annotations

import re

from sequencer.inbound.textfold import fold

MAX_DELIMITED_LINES = 12  # non-blank lines after "-- " that still make a signature
MAX_CARD_LINES = 6  # non-blank lines after a sign-off that still make a business card
MAX_CARD_LINE_CHARS = 80
MAX_CARD_LINE_WORDS = 6

_DELIMITER = re.compile(r"^--\s?$")
_DEVICE = r"[\w' .&+\-]{1,40}"
_MOBILE = re.compile(
    r"^(?:"
    rf"sent (?:from|with|via|using) (?!a )(?!an )(?!the ){_DEVICE}"
    r"|get outlook for \w+|download outlook for \w+"
    rf"|envoye (?:de|depuis) (?:mon|ma) {_DEVICE}|telechargez outlook pour \w+"
    rf"|von meine[mr]? {_DEVICE} gesendet|gesendet (?:von|mit) (?:meine[mr]? )?{_DEVICE}"
    r"|holen sie sich outlook fur \w+"
    rf"|enviado desde (?:mi|el) {_DEVICE}|obtener outlook para \w+"
    rf"|enviado (?:do|a partir do|pelo) (?:meu )?{_DEVICE}|obtenha o outlook para \w+"
    r"|baixe o outlook para \w+"
    rf"|verzonden (?:vanaf|met|van) (?:mijn )?{_DEVICE}|verstuurd (?:vanaf|met) (?:mijn )?"
    rf"{_DEVICE}|outlook voor \w+ downloaden"
    rf"|inviato da(?:l)? (?:mio |mia )?{_DEVICE}|scarica outlook per \w+"
    r")\s*(?:\([^()]{0,120}\)|<[^<>]{0,120}>)?\s*$"
)
_SIGNOFF = re.compile(
    r"^(?:best|best regards|best wishes|kind regards|warm regards|warmest regards|regards"
    r"|many thanks|thanks|thanks again|thanks so much|thank you|thank you so much|thx|cheers"
    r"|all the best|sincerely|yours sincerely|sincerely yours|yours truly|respectfully"
    r"|take care|talk soon|speak soon|br|rgds|kr|yours"
    r"|cordialement|bien cordialement|tres cordialement|bien a vous|bien a toi|merci"
    r"|merci beaucoup|merci d'avance|bonne journee|belle journee|salutations"
    r"|sinceres salutations|meilleures salutations|amicalement|a bientot|bises"
    r"|mit freundlichen grussen|mit freundlichem gruss|freundliche grusse|viele grusse"
    r"|beste grusse|liebe grusse|herzliche grusse|schone grusse|gruss|grusse|mfg|lg|vg"
    r"|danke|vielen dank|besten dank|danke und gruss|gruss und dank"
    r"|saludos|un saludo|saludos cordiales|atentamente|cordialmente|gracias"
    r"|muchas gracias|un abrazo|abrazos|quedo atento|quedo atenta"
    r"|atenciosamente|cumprimentos|melhores cumprimentos|abracos|abraco|obrigado|obrigada"
    r"|muito obrigado|muito obrigada|att|saudacoes|um abraco"
    r"|met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|groeten|groet"
    r"|hartelijke groet|mvg|bedankt|dank je|dank u|dank je wel|dank u wel"
    r"|cordiali saluti|distinti saluti|saluti|un saluto|grazie|grazie mille|buona giornata"
    r"|a presto)[\s,.!]*$"
)
_POSTSCRIPT = re.compile(r"p\.? ?s\b")
_CONTACT = re.compile(r"@|https?://|www\.|\+?\d[\d ().\-/]{6,}\d|\|")
_SENTENCE_WORDS = re.compile(
    r"\b(?:i|i'm|i'll|you|we|let's|please|will|can|could|would|should|is|are|was|let"
    r"|je|vous|nous|ich|sie|wir|yo|usted|eu|voce|ik|jij|u|io|lei)\b"
)


def strip_signature(text: str) -> str:
    """``text`` without its trailing signature, when one is found (else unchanged)."""
    lines = text.split("\n")
    folded = fold(text).split("\n")
    if len(folded) != len(lines):
        folded = [line.lower() for line in lines]
    end = _content_end(lines, len(lines))
    end = _delimited(lines, end)
    while True:
        last = _content_end(lines, end) - 1
        if last <= 0 or not _MOBILE.match(folded[last].strip()):
            break
        end = last
    end = _card(folded, end)
    return "\n".join(lines[:_content_end(lines, end)])


def _content_end(lines: list[str], end: int) -> int:
    """``end`` moved up over trailing blank lines."""
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return end


def _delimited(lines: list[str], end: int) -> int:
    """Where a ``-- `` signature starts, or ``end`` when there is none.

    Read from the end, so that the work stays linear however many delimiters there are:
    the earliest delimiter with at most ``MAX_DELIMITED_LINES`` lines after it wins.
    """
    found, after = end, 0
    for index in range(end - 1, 0, -1):
        if after > MAX_DELIMITED_LINES:
            break
        if _DELIMITER.match(lines[index]):
            found = index
        if lines[index].strip():
            after += 1
    if found < end and any(line.strip() for line in lines[:found]):
        return found
    return end


def _card(folded: list[str], end: int) -> int:
    """Where the business card after the last sign-off ends the body, or ``end``."""
    for index in range(end - 1, max(0, end - MAX_CARD_LINES - 2), -1):
        if not _SIGNOFF.match(folded[index].strip()):
            continue
        card = [line.strip() for line in folded[index + 1:end] if line.strip()]
        body_before = any(line.strip() for line in folded[:index])
        if card and body_before and len(card) <= MAX_CARD_LINES and all(
                _card_line(line) for line in card):
            return index + 1
        return end
    return end


def _card_line(line: str) -> bool:
    """Whether ``line`` reads like a name, title, company, phone or address line."""
    if len(line) > MAX_CARD_LINE_CHARS or line.endswith("?") or _POSTSCRIPT.match(line):
        return False
    if _CONTACT.search(line):
        return True
    return len(line.split()) <= MAX_CARD_LINE_WORDS and not _SENTENCE_WORDS.search(line)
