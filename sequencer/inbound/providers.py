"""What particular mail services mean by their words: their own message tables.

The general rules (:mod:`sequencer.inbound.reasons`) read what most servers mean. A
few big services word some failures in their own way, and only knowing which service
answered tells them apart: au/KDDI says "User unknown" both for a missing mailbox and
for its subscriber's reception filter, and tells them apart by whether it names the
address; Outlook.com answers a missing mailbox with the generic text RFC 5321 gives
for any 550. Each table below states such a documented habit of one service.

The service is recognised by the hosts a bounce names (:class:`Hosts`): the one that
wrote the report, the one that answered, and the recipient's domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hosts:
    """The hosts a bounce names, lower-case, without trailing dots."""

    reporter: tuple[str, ...] = ()  # the bounce's From domain and its Reporting-MTA
    remote: tuple[str, ...] = ()  # the server that answered (Remote-MTA, "talking to")
    recipient: str = ""  # the failed recipient's domain


def _within(names: Iterable[str], domains: tuple[str, ...]) -> bool:
    """Whether any host name is one of ``domains`` or a host under one of them."""
    return any(name == domain or name.endswith("." + domain)
               for name in names if name for domain in domains)


# au/KDDI (ezweb.ne.jp, au.com, and UQ mobile, on the same mail system): a subscriber's
# reception filter refuses with "550 : User unknown", the address left empty; a mailbox
# that does not exist is refused with the address named, "550 <x@ezweb.ne.jp>: User unknown".
_KDDI = ("ezweb.ne.jp", "au.com", "uqmobile.jp")
_KDDI_FILTER = re.compile(r"(?:^|[\s:])\s*:\s*user unknown|<\s*>\s*:?\s*user unknown")
_KDDI_NAMED = re.compile(r"<[^<>\s]+@[^<>\s]+>\s*:?\s*user unknown")

# Outlook.com/Hotmail answers RCPT TO for an address it has no mailbox for with RFC 5321's
# generic 550 text, "Requested action not taken: mailbox unavailable" (its refusals of the
# sender or content say so: "5.7.1 ... blocked", "Access denied, banned sending IP").
_OUTLOOK_COM = ("hotmail.com", "outlook.com", "live.com", "msn.com")
_OUTLOOK_COM_GONE = re.compile(r"requested action not taken: mailbox unavailable")

# Verizon's e-mail-to-SMS gateway (vtext.com, vzwpix.com) writes its own notice about its
# own subscribers: "Error: Invalid user address ... 550 - Requested action not taken: no
# such user here" when the number has no Verizon subscriber.
_VERIZON = ("vtext.com", "vzwpix.com")
_VERIZON_GONE = re.compile(r"no such user here|invalid user address|no valid recipients")

# Symantec/Broadcom Email Security.cloud (MessageLabs) filters a customer's inbound mail
# and checks recipients against the customer's address list: "No such user", "Invalid
# recipient", "Recipient mailbox is not allowed" are its refusals of unknown recipients
# (Broadcom knowledge base articles 165163 and 175710).
_MESSAGELABS = ("messagelabs.com",)
_MESSAGELABS_GONE = re.compile(r"no such user|invalid recipient|mailbox is not allowed")

# Orange and La Poste end every refusal with a code naming the reason, "LPN007_416",
# "OFR005_505", "OFR_416 [416]": the last three digits are documented by Orange's
# postmaster pages. Codes that mean no more than "try later" are left to the words. The code
# names the reason whatever the command: a pipelining client may read the refusal of RCPT
# TO only after sending DATA.
_ORANGE_CODE = re.compile(r"\b(?:lpn|ofr|ouk)[a-z0-9]*[_-](\d{3})\b")
_ORANGE_REASONS = {
    "101": "blocked", "102": "blocked", "103": "blocked", "999": "blocked",
    "510": "blocked", "104": "toomanyconn", "305": "securityerror",
    "402": "securityerror", "401": "authfailure", "517": "authfailure",
    "403": "rejected", "405": "rejected", "415": "rejected", "421": "rejected",
    "416": "userunknown", "417": "mailboxfull", "420": "suspend", "426": "suspend",
    "505": "systemerror", "506": "spamdetected", "514": "mesgtoobig",
    "630": "policyviolation",
}


def provider_reason(hosts: Hosts, diagnostic: str, *, after_data: bool = False) -> str | None:
    """The reason a known service's own words give, or None when none of its tables apply.

    ``after_data``: the refusal came after DATA; a "user unknown" said to the content is
    not taken from the tables, and the general rules weigh it (the code may still say
    5.1.1: a pipelining client reads the refusal of RCPT TO after sending DATA).
    """
    words = " ".join(diagnostic.lower().split())
    if not words:
        return None
    code = _ORANGE_CODE.search(words)
    if code is not None and code.group(1) in _ORANGE_REASONS:
        return _ORANGE_REASONS[code.group(1)]
    answering = (*hosts.remote, hosts.recipient)
    if _within(answering, _KDDI):
        if _KDDI_FILTER.search(words):
            return "filtered"
        if _KDDI_NAMED.search(words):
            return _unless_after_data("userunknown", after_data)
    # The reporter's own words count when it names no other server as the one answering.
    own = (*answering, *hosts.reporter) if not hosts.remote else answering
    for domains, pattern, whose in (
        (_OUTLOOK_COM, _OUTLOOK_COM_GONE, own),
        (_VERIZON, _VERIZON_GONE, (*hosts.reporter, hosts.recipient)),
        (_MESSAGELABS, _MESSAGELABS_GONE, (*hosts.reporter, *hosts.remote)),
    ):
        if _within(whose, domains) and pattern.search(words):
            return None if after_data else "userunknown"
    return None


def _unless_after_data(reason: str, after_data: bool) -> str | None:
    return None if after_data and reason == "userunknown" else reason
