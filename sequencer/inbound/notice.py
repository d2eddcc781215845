"""Bounce notices written for people: who sent them, where the returned mail starts,
which address failed, at which SMTP command, and the lines that carry the server's words.

This covers the servers that write no RFC 3464 report (qmail, Exim, Postfix without
DSN, Sendmail's transcript, Exchange, Gmail, Yahoo, Lotus Domino...) and the human
part of those that do.
"""

from __future__ import annotations

import re

# Mail systems write as these; people do not (a person may well write as mail@ or info@).
_DAEMON_LOCAL = re.compile(
    r"^(mailer[-_.]?daemon|post[-_.]?master|mail[-_.]?daemon|mdaemon|"
    r"mail[-_.]delivery[-_.]system|mailerd)$|^(mailer[-_.]?daemon|postmaster)[+=-]")
_DAEMON_NAME = re.compile(
    r"mailer[- _]?daemon|mail delivery (system|subsystem|service)|\bpostmaster\b|"
    r"delivery status notification|^mail (administrator|system)$|interscan", re.I)

_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|return(ed|ing) (message|to sender)|"
    r"delivery (status notification|failure|failed|has failed|notification|problem|report)|"
    r"mail delivery fail|failure notice|delivery.{0,20}(fail|error)|non[- ]?deliver|"
    r"could not be delivered|mail system error|message not delivered|not delivered|"
    r"nondeliverable|unzustellbar|non remis|no entregado|non recapitabile|"
    r"(message|mail) (delivery )?(failure|failed|error)|delivery notification|"
    r"postmaster notify|returned to sender|bounce|rejected|warning: (could not|message)|"
    r"not (a )?member|"
    r"(メール|配信|送信)エラー|不達|未達|配信不能|送信できません|"  # Japanese carriers' notices
    r"nicht zustellbar|non distribuibile|no se pudo entregar|não entregue",
    re.I)

_BOUNCE_PHRASES = re.compile(
    r"could ?n[o']t be delivered|not be delivered|was not delivered|wasn'?t able to deliver|"
    r"unable to deliver|undeliverable|delivery (to the following recipient|has failed|"
    r"failed|to these recipients)|permanent (error|failure|fatal)|"
    r"following address(es)?(\(es\))? failed|failed permanently|temporary (failure|problem)|"
    r"returned mail|mail delivery (failed|failure)|delivery status notification|"
    r"delivery report|message (could not|cannot) be delivered|error (has )?occurred while|"
    r"rejected by|failed to deliver|not able to be delivered|error delivering|"
    r"has not (yet )?been delivered|delayed|will retry|fatal errors|"
    r"(smtp|remote) (error|server)|remote host said|does not like recipient|"
    r"failure reasons|non ?remis|nicht zugestellt|no se pudo entregar|"
    r"trouble delivering|unable to (contact|connect)|unknown user|user unknown|"
    r"delivery.{0,40}(failed|error)|in reply to (rcpt|end of data|data|mail)|"
    r"did not reach|could not reach|(are|is) not (a )?member of|invalid (user|recipient)|"
    r"transcript of (the )?session follows",
    re.I)

# Where the returned original starts in a notice's text: a line that announces it.
_ORIGINAL_MARKERS = re.compile(
    r"(?im)^[ \t>*=_-]*("
    r"(this is a )?copy of (the|your) (original )?(message|mail|headers?)|"
    r"(the )?(original|returned|undelivered|unsent) (message|mail)( headers?)?( follows)?|"
    r"below (this line )?is (a )?copy of (the|your) (original )?(message|mail)|"
    r"(included|enclosed|attached) is (a )?copy of (the|your) (message|mail)|"
    r"the header of the original message is following|"
    r"(original|returned) message (header|headers|text)( follows?)?|"
    r"content-type:[ \t]*(message/rfc822|text/rfc822-headers)"
    r")[ \t.,:;*=_()a-z-]{0,60}$")
_HEADER_BLOCK = re.compile(
    r"(?im)^(return-path|received|dkim-signature|x-received|authentication-results|"
    r"arc-seal|delivered-to|x-google-dkim-signature):[ \t]")

_SMTP_REPLY = re.compile(r"(?<![\d.#\w-])([245]\d\d)(?:[ -]|:? |:?$)", re.M)
_COMMAND = re.compile(
    r"in reply to (end of )?(data|rcpt to|mail from|helo|ehlo|rcpt|mail|connect)|"
    r"after (end of data|data|rcpt to|mail from|initial connection|rcpt|mail|helo|ehlo|"
    r"connect|sending data block|pipelined data)|"
    r"(?m:^[ \t]*>>>[ \t]*(data|rcpt to|mail from|helo|ehlo|rcpt|mail)\b)|"
    r"most progress was (rcpt to|mail from|data) response|"
    r"did not like our (rcpt to|data|mail from)|"
    r"\[(rcpt_to|data|mail_from)\]|(rcpt to|mail from|data) command|"
    r"smtp command:?\s*(data|rcpt to|mail from|rcpt|mail)|smtp:(rcpt|data|mail)\b|"
    # qmail: "Connected to 192.0.2.1 but sender was rejected." and the like
    r"but (sender|my name) was rejected|does not like recipient|failed on data command|"
    r"failed after i sent the message",
    re.I)


def is_daemon(address: str | None, display: str = "") -> bool:
    """Whether an address, or the display name beside it, is a mail system's."""
    local = (address or "").partition("@")[0].lower()
    name = display.partition("<")[0].strip(" \"'") if "<" in display else ""
    return bool(_DAEMON_LOCAL.match(local)) or bool(_DAEMON_NAME.search(name))


def bounce_subject(subject: str) -> bool:
    """Whether a subject reads like a mail system's failure notice (in several languages)."""
    return bool(_SUBJECT.search(subject))


def bounce_phrases(text: str) -> bool:
    """Whether a notice says, in words, that a delivery failed or was delayed."""
    return bool(_BOUNCE_PHRASES.search(text[:20000]))


def split_notice(text: str) -> tuple[str, str]:
    """``text`` cut where the returned original starts: (the notice, the original)."""
    cut = len(text)
    marker = _ORIGINAL_MARKERS.search(text)
    if marker is not None:
        cut = marker.start()
    block = _HEADER_BLOCK.search(text)
    if block is not None and block.start() < cut:
        cut = block.start()
    return text[:cut], text[cut:]


def smtp_command(text: str) -> str | None:
    """The SMTP command the remote server answered with its refusal: DATA, RCPT, MAIL..."""
    found = None
    for match in _COMMAND.finditer(text):
        words = match.group(0).lower().replace("in reply to", "").replace("after", "")
        found = _command_name(words.replace("most progress was", "").replace("did not like", ""))
        if "in reply to" in match.group(0).lower() or "after" in match.group(0).lower():
            return found
    return found


def _command_name(words: str) -> str:
    if "my name" in words:
        return "HELO"
    if "sender" in words:
        return "MAIL"
    if "recipient" in words:
        return "RCPT"
    if "sent the message" in words:
        return "DATA"
    if "rcpt" in words and "data" not in words.replace("rcpt", ""):
        return "RCPT"
    if "data" in words:
        return "DATA"
    if "rcpt" in words:
        return "RCPT"
    if "mail" in words:
        return "MAIL"
    if "helo" in words or "ehlo" in words:
        return "HELO"
    return "CONN"


def server_lines(notice: str, *, limit: int = 8) -> list[str]:
    """The lines of a notice that quote a server's reply (an SMTP code or a reason)."""
    lines: list[str] = []
    for line in notice.splitlines():
        stripped = " ".join(line.split())
        if not stripped or len(stripped) > 1000:
            continue
        if _SMTP_REPLY.search(stripped) or re.search(r"\(#?[245]\.\d", stripped):
            lines.append(stripped)
        if len(lines) >= limit:
            break
    return lines


def smtp_reply_class(text: str) -> str | None:
    """'5' or '4' from the first SMTP reply code that quotes a refusal in ``text``."""
    for match in _SMTP_REPLY.finditer(text):
        if match.group(1)[0] in "45":
            return match.group(1)[0]
    return None


_ADDRESS = re.compile(r"<?([A-Za-z0-9.!#$%&'*+/=?^_`{|}~=-]{1,64}@[A-Za-z0-9.-]{1,255}"
                      r"\.[A-Za-z]{2,63})>?")


def addresses(text: str) -> list[str]:
    """Every e-mail address in ``text``, in order."""
    return [match.group(1) for match in _ADDRESS.finditer(text)]
