"""From what a bounce says to why the delivery failed: one reason, weighed with care.

The words come first (:mod:`sequencer.inbound.reasons`), then where in the SMTP
dialogue the refusal happened, then the enhanced status code. A hard bounce
suppresses an address forever, so every doubt resolves towards the reading that
keeps it: a "user unknown" must be confirmed by the dialogue or the code, a 4xx is
never permanent, and a report that contradicts itself is read the safe way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sequencer.inbound.dsn import RecipientReport
from sequencer.inbound.model import Kind
from sequencer.inbound.notice import server_lines, smtp_command, smtp_reply_class
from sequencer.inbound.providers import Hosts, provider_reason
from sequencer.inbound.reasons import (
    enhanced_codes,
    kind_of,
    reason_in_text,
    reason_of_status,
    rule_in_text,
)

# A local delivery program (procmail, maildrop...) failing says nothing about the address.
_LOCAL_PROGRAM_REASONS = frozenset({"mailboxfull", "systemfull", "mesgtoobig", "exceedlimit"})
# RFC 3463 X.1.7 / X.1.8: the sender's address (syntax, domain) was refused.
_SENDER_STATUSES = frozenset({"5.1.7", "5.1.8", "4.1.7", "4.1.8"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one bounce says about the one recipient it is read for."""

    diagnostic: str  # the remote server's words for this recipient ("" when none found)
    notice: str  # the notice written for people, without the returned original
    status: str | None  # the enhanced status code
    report: RecipientReport | None = None  # the structured fields, when the bounce had them
    recipients: int = 1  # how many recipients the report covers
    hosts: Hosts = field(default_factory=Hosts)  # who reported, who answered, whose address
    command: str | None = field(init=False)  # the SMTP command refused: RCPT, DATA, MAIL...

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", smtp_command(f"{self.diagnostic}\n{self.notice}"))

    @property
    def status_words(self) -> str:
        return (self.report.status_text if self.report else None) or ""


def reason_for(evidence: Evidence) -> str:
    """The reason of the failure (a key of ``reasons.KIND_OF_REASON``)."""
    rule = _rule_in_words(evidence)
    placed = _refusal_by_place(evidence, rule)
    if placed is not None:
        return placed
    told = provider_reason(evidence.hosts, evidence.diagnostic,
                           after_data=evidence.command == "DATA")
    if told is not None:
        return _safer_reading(told, evidence.notice)
    if rule == "userunknown.remote" and not (evidence.status or "").startswith("5."):
        rule = "userunknown"
    if rule == "userunknown" and not mailbox_is_gone(evidence):
        return "filtered"
    reason = rule.partition(".")[0] if rule else None
    reason = reason or reason_of_status(evidence.status) or _reason_of_class(evidence)
    return _safer_reading(reason, evidence.notice)


def _rule_in_words(evidence: Evidence) -> str | None:
    rule = rule_in_text([evidence.diagnostic, evidence.status_words])
    told = rule_in_text([evidence.notice])
    if rule in (None, "systemerror") and told == "userunknown.definite":
        return told  # "mail.local: unknown user: kijitora" above "554 Service unavailable"
    if rule is None and told is not None:
        # A notice may list other recipients' failures: when this recipient's reply was
        # found and names no reason, the notice may not make the address dead.
        if evidence.diagnostic and kind_of(told.partition(".")[0]) is Kind.HARD_BOUNCE:
            return None
        return told
    return rule


def _refusal_by_place(evidence: Evidence, rule: str | None) -> str | None:
    """A reason given by where the refusal happened, overruling words that blame the
    recipient's address (or words that say nothing)."""
    reason = rule.partition(".")[0] if rule else None
    if evidence.report is not None and evidence.report.diagnostic_type == "x-unix":
        return None if reason in _LOCAL_PROGRAM_REASONS else "mailererror"
    if not (reason in (None, "filtered") or kind_of(reason) is Kind.HARD_BOUNCE):
        return None  # a full mailbox or a message too big is what it says, wherever said
    if evidence.status in _SENDER_STATUSES or evidence.command == "MAIL":
        return "rejected"  # the sender was refused: the recipient was never in question
    if evidence.command in ("CONN", "HELO"):
        return "blocked"  # refused before any address was given: the refusal is of us
    return None


def mailbox_is_gone(evidence: Evidence) -> bool:
    """Whether a "user unknown" can be believed: the address itself was refused.

    A server that refuses the recipient at RCPT TO, or says 5.1.x (bad destination
    mailbox), means it. One that took RCPT TO and then answers "user unknown" to the
    content, or says so under no code or an unrelated one (5.0.0, 5.2.x), may be
    filtering: some servers word every content or sender refusal that way. And the
    reply to DATA is one reply for the whole message (RFC 5321): when the message had
    several recipients it cannot be about one address.
    """
    if evidence.command == "DATA" and evidence.recipients > 1:
        return False
    if (evidence.status or "").startswith(("5.1.", "4.1.")):
        return True
    return evidence.command == "RCPT"


def _reason_of_class(evidence: Evidence) -> str:
    if evidence.report is not None and evidence.report.action == "delayed":
        return "expired"
    if evidence.status and evidence.status[1:4] == ".7.":
        return "securityerror"  # RFC 3463 class X.7: security or policy status
    return "undefined"


def _safer_reading(reason: str, notice: str) -> str:
    """Suppression is forever: when the notice written for people gives a recoverable
    reason (the mailbox or the disk is full) for what the reply calls a dead address,
    the report contradicts itself, and we take the reading that keeps the address."""
    if kind_of(reason) is not Kind.HARD_BOUNCE:
        return reason
    told = reason_in_text([notice])
    if told is not None and told != "filtered" and kind_of(told) is Kind.SOFT_BOUNCE:
        return told
    return reason


# Reading the evidence out of a notice ----------------------------------------------------

_DSN_FIELD_LINE = re.compile(r"(?i)^\s*(status|action|final-recipient|original-recipient|"
                             r"remote-mta|reporting-mta|last-attempt-date|arrival-date)\s*:")
_NEW_REPLY = re.compile(r"^\s*(<<<|>>>|[245]\d\d([ -]|:? )|<[^>]+@[^>]+>:)")
_REPLY_START = re.compile(r"(?<![\w.-])([245]\d\d([ -]|:? |:?$)|#?[245]\.\d{1,3}\.\d{1,3}\b)")
# Some reporters translate the remote reply and quote it: "5.1.0 - Unknown address
# error 550-'5.7.1 ... Access denied'". The quoted words are the remote server's.
_QUOTED_REPLY = re.compile(r"\b[245]\d\d[- ]'(.{4,}?)'")
_DELAY_WORDS = re.compile(
    r"(temporary (failure|problem)|delayed|not yet been delivered|will (retry|continue|"
    r"keep trying|try again)|still trying|no action is required|do not need to re-?send|"
    r"will be retried|is kept in the queue)", re.I)
_PERMANENT_WORDS = re.compile(r"permanent|given up|giving up|failed permanently|"
                              r"will not (continue|try|retry)|no further", re.I)


def notice_diagnostic(notice: str) -> str | None:
    """The server's reply as a notice quotes it: the first line with a reply code and
    the lines that continue it, up to a blank line or the next reply."""
    lines = notice.splitlines()
    for index, line in enumerate(lines):
        if not _REPLY_START.search(line) or len(line) > 1000 or _DSN_FIELD_LINE.match(line):
            continue
        block = [line.strip()]
        for following in lines[index + 1:index + 8]:
            if not following.strip() or _NEW_REPLY.match(following):
                break
            block.append(following.strip())
        return " ".join(" ".join(block).split())[:1000]
    return None


def remote_words(diagnostic: str) -> str:
    """The remote server's own reply inside a reporter's translation of it."""
    quoted = _QUOTED_REPLY.search(diagnostic)
    return quoted.group(1) if quoted else diagnostic


def best_status(reported: str | None, diagnostic: str, notice: str) -> str | None:
    """The most specific enhanced code: the remote server's own, else the reporter's,
    else the class of the SMTP reply ("5.0.0")."""
    remote = enhanced_codes(diagnostic)
    if remote and (reported is None or reported.endswith(".0.0")
                   or remote[0][0] == reported[0]):
        return remote[0]
    if reported:
        return reported
    in_notice = enhanced_codes(" ".join(server_lines(notice)))
    if in_notice:
        return in_notice[0]
    reply = smtp_reply_class(diagnostic) or smtp_reply_class(notice)
    return f"{reply}.0.0" if reply else None


def is_delay_warning(report: RecipientReport | None, final: bool, notice: str) -> bool:
    """A report that the remote system is still trying (``Action: delayed``, or a notice
    that says it will retry), not that it gave up."""
    if report is not None and report.action:
        return report.action == "delayed"
    if final:
        return False
    head = notice[:3000]
    return bool(_DELAY_WORDS.search(head)) and not _PERMANENT_WORDS.search(head)
