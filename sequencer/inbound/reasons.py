"""Why a delivery failed, from the remote server's words and its enhanced status code.

Reasons use the vocabulary of the labelled corpus (``userunknown``, ``mailboxfull``,
``blocked``...), each mapped to the kind the engine acts on. Every rule states a
general fact about what mail servers say. They are tried in order, from the most
specific (an SPF failure, a blacklist, a full mailbox) to the most general (a user
unknown, a bare "rejected"), because a server that blocks the sender often words it
as a recipient refusal ("550 5.1.1 <x> - 192.0.2.1 has sent to too many recipients
this hour"). The enhanced status code decides only when the words do not: many
servers say 5.0.0 or 5.1.1 whatever the cause.

Rule names are ``reason`` or ``reason.variant``; a variant lets the caller weigh how
far the words can be trusted (``userunknown.definite`` is said only after a lookup).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sequencer.inbound.model import Kind

_ = re.compile

# (rule, phrases), most specific first. Matched against lower-case text with runs of
# whitespace collapsed to one space.
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # The sender's domain failed SPF, DKIM or DMARC: fix the DNS, not the list.
    ("authfailure", _(
        r"\b(spf|dkim|dmarc)\b.{0,60}\b(fail|failed|failure|reject|"
        r"rejected|invalid|not (pass|aligned|designate|permitted|"
        r"authori[sz]ed)|check|policy|record)|"
        r"\b(fail|failed|failing|did not pass|unauthenticated|"
        r"not pass)\b.{0,40}\b(spf|dkim|dmarc)\b|"
        r"\bdmarc\b|\bsender policy framework\b|\bsender ?id\b.{0,30}(fail|reject)|"
        r"not authori[sz]ed to send (mail|email|on behalf)|(is not|isn't) (a )?permitted sender|"
        r"does not designate .{0,80} as permitted sender|unauthenticated (email|mail|sender)|"
        r"authentication (is )?required for (this|the) (sender|domain)|5\.7\.2[0-46]\b")),
    # The sending IP has no (matching) reverse DNS.
    ("requireptr", _(
        r"unverif(y|i)able (sending )?ip|"
        r"\b(reverse (dns|lookup|address|hostname)|rdns|ptr\b|"
        r"ptr record|dns ptr|forward[- ]confirmed|fcrdns)|"
        r"(no|without|missing|invalid|bad) (valid )?(hostname|"
        r"host name|dns name) .{0,30}(for|of) (your|the) (ip|client|"
        r"address)|"
        r"cannot find your hostname|cannot resolve your (hostname|address)|"
        r"client host .{0,40}(unknown|not resolvable)|ip name lookup failed|"
        r"name lookup failed for|unresolvable (relay )?host ?name|"
        r"(domain|hostname) .{0,40} mismatch(es)? (client|ip|connecting)|5\.7\.25\b")),
    # The server is not the recipient domain's and will not pass the mail on.
    ("norelaying", _(
        r"relay(ing)? (access )?(denied|not (permitted|allowed|authori[sz]ed))|"
        r"(not|no longer) (permitted|allowed|configured) to relay|unable to relay|"
        r"relaying (is )?(denied|not allowed|prohibited)|no relaying|we do not relay|"
        r"relay not permitted|cannot relay|not a gateway|insecure (mail )?relay|open relay|"
        r"relaying mail to .{0,60} is not allowed|not local host .{0,40}not a gateway")),
    # The envelope sender was refused (before any recipient is named).
    ("rejected.sender", _(
        r"sender .{0,40}(rejected|refused|denied|not (allowed|"
        r"accepted|permitted|authori[sz]ed))|"
        r"(rejected|refused|denied) .{0,20}sender|"
        r"(domain|address) of sender .{0,80}(not exist|not found|unknown|invalid)|"
        r"sender (domain|address) .{0,40}(must exist|not exist|unknown|invalid|not resolv)|"
        r"mail from .{0,60}(rejected|refused|denied|not (allowed|accepted))|"
        r"(invalid|unknown|unverif\w*|bad|unroutable|unrouteable) (sender|"
        r"return[- ]path|mail from)|"
        r"send mail as|different address or alias|"
        r"(not have|don'?t have|do not have|no) permission to (post|send)|"
        r"(sender|envelope) verify failed|callout verification|"
        r"from:? (header )?domain is invalid|provide a valid from\b")),
    ("virusdetected", _(
        r"\bvirus|malware|infected|malicious (content|attachment|payload)|"
        r"potentially (harmful|dangerous|unsafe)|banned attachment")),
    # The content was judged spam.
    ("spamdetected", _(
        r"\bspam\b.{0,40}(detect|filter|content|score|scored|suspect|"
        r"message|like|probability|identified|classified|reject)|"
        r"(detected|identified|classified|considered|scored|flagged|"
        r"marked|rejected|looks) (as|like) .{0,20}spam|"
        r"unsolicited (bulk |commercial )?(e-?mail|mail|message)|\bube\b|"
        r"content (rejected|filter)|message (content )?(rejected|refused) as spam|"
        r"high (spam|bulk) (score|probability)|spam message rejected|\bspamassassin|\bjunk mail|"
        r"probable spam|suspected spam|rejected for spam|likely (to be )?(spam|unsolicited)|"
        r"spam (rejected|refused|blocked|content)")),
    # The sending IP is on a blocklist, or the receiver refuses our host by policy.
    ("blocked.list", _(
        r"\b(black|block|deny|ban)[- ]?list(ed)?\b|\bblacklisted\b|\bdnsbl\b|\brbl\b|"
        r"\bspamhaus\b|\bspamcop\b|\bsorbs\b|\bbarracuda\b.{0,40}(block|reputation)|"
        r"blocked using|(?<!not )listed (at|in|on|by)\b|\bcloudmark\b|\bproofpoint\b.{0,40}block|"
        r"dnsbl-lookup|client host (\[[^]]*\] )?(rejected|blocked)")),
    # The sending IP or domain has a poor reputation (complaints, volume).
    ("badreputation", _(
        r"\breputation\b|\bsender score\b|poor (sending )?(history|practices)|unexpected volume|"
        r"user complaints?|complaint rate")),
    # Sending too fast: per-hour or per-day limits.
    ("speeding", _(
        r"(sent|sending|receiving mail at) .{0,40}(too many|at a rate|rate that)|"
        r"too many (messages|mails|emails|recipients) .{0,30}(this|"
        r"per|in the last|an?) (hour|minute|day|second)|"
        r"(?<!connection )rate (limit|limited|that prevents)|"
        r"(message|sending|submission|send) rate|throttl|"
        r"exceeded .{0,30}(sending|message|hourly|daily) (limit|quota|rate)|"
        r"(daily|hourly) (relay |sending |message |send )?(quota|limit)")),
    # Too many connections or recipients at once (retry later, slower).
    ("toomanyconn", _(
        r"too many (connections|concurrent|simultaneous|sessions|recipients)|"
        r"connection (rate|limit|frequency)|(ip|connection) frequency|too many (smtp )?sessions|"
        r"maximum (number of )?(connections|sessions)|connection limit")),
    # The message breaks RFC 5322 (headers): the sender must fix it.
    ("notcompliantrfc", _(
        r"\brfc ?(5322|2822|822|5321|2821|1035|5890|6532)\b(?![;-])|"
        r"not (rfc|standards?)[- ]compliant|non[- ]compliant|"
        r"(multiple|duplicate|missing|malformed|invalid|bad|syntactically invalid) "
        r".{0,30}(headers?|"
        r"from:? header|message[- ]id|date header)|"
        r"header (is )?(malformed|invalid|error|syntax)|"
        r"headers? (are )?(not|too long|too large|too big)|improperly formatted|"
        r"message is not properly formatted|bare (lf|linefeed|cr)|"
        r"8-?bit (data|characters) (not|in)")),
    ("mesgtoobig", _(
        r"(message|mail|email|data) (is |was )?(too (big|large|"
        r"long)|size exceeds|exceeds .{0,30}(size|maximum|limit))|"
        r"(size|length) (of message |of the message )?(exceeds|"
        r"too large|too big|limit (exceeded|reached))|"
        r"message size (limit|exceeds|too)|"
        r"exceeds (the )?(maximum|fixed maximum) (message|allowed) size|"
        r"too big for (system|the system)|line (limit|length) exceeded|line too long|"
        r"mail size limit")),
    # Over a size limit the recipient (not the system) set.
    ("exceedlimit", _(
        r"exceeds? .{0,30}(limit|administrative limit) .{0,30}(recipient|set by)|"
        r"message (length|size) exceeds .{0,20}(administrative|limit set)|recipsizelimit|"
        r"too large for this recipient")),
    ("mailboxfull", _(
        r"(mail|in|)box (is |was )?(full|over ?quota|exceed|out of (storage|space))|"
        r"mailbox size|over ?quota|quota (exceeded|exceed|full|violation)|"
        r"exceed(s|ed)? .{0,30}(quota|storage|storage allocation|"
        r"mailbox|size limit (for|of) (the )?(mailbox|user))|"
        r"(storage|disk|mailbox) (quota|space) .{0,30}(exceeded|full|out)|"
        r"out of (storage|disk) space|(inbox|mailbox|mail ?folder|mailfolder) .{0,20}\bfull\b|"
        r"insufficient (storage|space) .{0,20}(mailbox|user)|user .{0,20}over (quota|the limit)|"
        r"messages in .{0,30}mailbox exceeded|too many messages in (this|the) mailbox|"
        r"not enough (space|storage)|mailbox exceeds allowed size|mailbox full|"
        # the same in the languages of the big European providers
        r"postfach (ist )?voll|speicherplatz .{0,20}(voll|überschritten)|"
        r"bo[iî]te (aux lettres )?(est )?pleine|buz[oó]n (est[aá] )?lleno|"
        r"caixa (postal )?(est[aá] )?cheia|casella (di posta )?(è )?piena|mailbox (is )?vol\b")),
    # The receiving system, not the mailbox, is out of space.
    ("systemfull", _(
        r"mail system full|not enough disk space|insufficient (system |disk )?(storage|space)|"
        r"(disk|file ?system|spool) (is )?full|no space left|out of (memory|disk)|"
        r"system (storage|disk) full")),
    # The mailbox exists but is disabled, suspended or locked: it may come back.
    ("suspend", _(
        r"(account|mailbox|user|recipient|address)[^;,]{0,40}? (is|has been|was) "
        r"(temporarily |permanently )?(disabled|suspended|inactive|deactivated|locked|"
        r"frozen|discontinued|closed|terminated|on hold|blocked)|"
        r"mailbox disabled|account (disabled|suspended|inactive|locked|expired|closed)|"
        r"(disabled|suspended|inactive|deactivated|locked|frozen) (account|mailbox|recipient|user)|"
        r"compte .{0,30}bloque|temporar(il)?y locked")),
    ("hasmoved", _(
        r"destination mailbox has moved|has moved|(address|mailbox|user) (has )?(moved|changed)|"
        r"no longer (on|at|with|valid|in use|available|active)|not our (user|customer)|"
        r"user not local|forwarding address|new address")),
    # The domain says it takes no mail (null MX, no MX and no SMTP service).
    ("notaccept", _(
        r"system not accepting network messages|\bnull mx\b|"
        r"(does not|doesn't|do not|not) accept(ing)? (any )?(e-?mail|mail|messages)|"
        r"no (smtp|mail) service|indicated no smtp service|no mx (record|found)|"
        r"(couldn'?t|could not|unable to) find (a|any) mail exchanger|no mail exchanger|"
        r"no mx host")),
    # A resolver that could not answer now ("try again") is not a missing domain.
    ("networkerror.dns", _(
        r"name service error .{0,100}try again|"
        r"temporary (dns|name ?server|name service|lookup) (failure|error)|\bservfail\b|"
        r"dns (lookup )?timed? ?out")),
    # The domain does not exist. Exim's router says "Unrouteable address".
    ("hostunknown", _(
        r"unrouteable address|"
        r"bad destination system address|host (or domain name )?(not found|unknown)|"
        r"unknown host|"
        r"domain (name )?(not found|unknown|does not exist|doesn'?t exist|"
        r"is not reachable|not exist)|"
        r"(unknown|invalid|nonexistent|non-existent|unrouteable|unroutable|bad) (mail )?domain|"
        r"(?<![@\w.-])([a-z0-9-]+\.)+[a-z]{2,} (does not|doesn'?t) exist|no such (domain|host)|"
        r"(couldn'?t|could not|unable to) find any host|"
        r"name service error .{0,60}host not found|\bnxdomain\b|"
        r"recipient domain .{0,30}(not|no)|domain .{0,40} (is not|not) (registered|valid)|"
        r"host or domain name not found|dns (error|lookup).{0,60}not found")),
    # Said only after the server looked the address up: believed whatever SMTP
    # command they answer (Domino, Exchange, IMail, mail.local, Gmail's notice).
    ("userunknown.definite", _(
        r"address (couldn'?t|could not) be found|\baddress not found\b|"
        r"recipient not found by smtp address|recipientnotfound|"
        r"not listed in (the )?(domino directory|public name & address book)|"
        r"recipient name is not recognized|no mailbox here by that name|"
        r"invalid final delivery userid|bad destination mailbox address|"
        r"\bunknown user: [\"'<]?[\w.+-]+|no valid recipients\b")),
    # Said in a remote server's 5xx reply, this means the provider has no such account.
    ("userunknown.remote", _(
        r"(doesn'?t|does not) have an? [\w.-]+ account")),
    # Recipient refusals in general. Whether they are believed depends on where in
    # the SMTP dialogue they came (see bounces._mailbox_is_gone).
    # "Recipient address rejected: Access denied" is Microsoft's directory-based edge
    # blocking: the address is not in the tenant's directory.
    ("userunknown", _(
        r"bad destination mailbox address|"
        r"(user|recipient|addressee|mailbox|account|address|alias|"
        r"person|e-?mail account|local part|destination)( name)? (is )?(unknown|"
        r"not (found|known|exist|listed|valid|available|present)|"
        r"does ?n[o']t exist|doesn'?t exist|invalid|unavailable|"
        r"nonexistent|non-existent|illegal)|"
        r"(unknown|invalid|illegal|bad|nonexistent|non-existent) (local )?(user|"
        r"recipient|mailbox|address|addressee|alias|account|e-?mail address|"
        r"destination address)|"
        r"no such (user|recipient|mailbox|address|account|person|local user)|"
        r"no (mailbox|user|account) (here )?(by that name|found|with that name)|"
        r"(doesn'?t|does not) have an? .{0,40}account|"
        r"(account|mailbox|user|address) .{0,40}(does not|doesn'?t|did not) exist|"
        r"not (a )?(valid|known) (mailbox|user|recipient|address)|user (not|doesn't) exist|"
        r"recipient (rejected|not found)|"
        r"mailbox (not found|unavailable|doesn't exist|does not exist)|"
        r"invalid final delivery userid|not listed in .{0,40}(directory|address book)|"
        r"account that you tried to reach does not exist|undeliverable address|"
        r"no valid recipients?\b|check (if|that|whether) (the )?(e-?mail )?address is correct|"
        r"recipient name is not recognized|destinataire (invalide|inconnu)|"
        r"empf[äa]nger (ist )?unbekannt|unbekannte[rn]? (empf[äa]nger|benutzer)|"
        r"usuario (no existe|desconocido|inexistente)|usu[áa]rio (desconhecido|inexistente)|"
        r"utente (sconosciuto|inesistente)|onbekende (gebruiker|ontvanger)|"
        r"adresse .{0,40} invalide|(recipient )?address rejected(\.|\s*$|\s+<?[\w.+-]+@)|"
        r"recipient address rejected: access denied")),
    # The recipient's own filter or preferences refused the mail.
    ("filtered", _(
        r"\bfiltered\b|recipient preferences|"
        r"refused .{0,30}(recipient|user)'?s? (preference|setting|filter|request)|"
        r"(user|recipient) (has )?(refused|rejected|declined|blocked)|domain filter|"
        r"message filter|recipients? (was|were) rejected by (a|the) remote")),
    # The sending IP or host is blocked (blacklists, "client host rejected").
    ("blocked", _(
        r"(client|sending|sender|your|source|remote|connecting) (host|"
        r"ip|ip address|address|server|mta|network)\b.{0,60}\b(blocked|"
        r"block|rejected|refused|denied|banned|not (allowed|permitted|"
        r"accepted))|"
        r"(ip|host|address|network|server) (address )?(is |has been )?(temporarily |"
        r"permanently )?(blocked|banned|blacklisted|blocklisted)|"
        r"blocked (ip|for spam|due to|because)|(banned|blocked|blacklisted) (sending )?ip|"
        r"(access|connection|mail) (from|of) .{0,80}(is )?(blocked|"
        r"denied|refused|rejected|not (allowed|accepted))|"
        r"(connections?|mail) (not|is not|are not) accepted from|"
        r"not accepting (connections|mail from)|refused to talk to me|(bloqu|bloqué)e?s? pour|"
        r"adresse ip .{0,20}bloqu|\bblocked\b|service refus|invalid ip for sending|"
        r"(host|ip|network|client) (address |network )?(is )?not (allowed|"
        r"authori[sz]ed|permitted)|"
        r"\bcan ?not accept mail from (this|your) (ip|host|server|address)|"
        r"you are not allowed to (connect|send)|too many (invalid|bad|unknown) recipients")),
    # The message stayed in a queue until it expired.
    ("expired", _(
        r"retry (time(out)?|period) (exceeded|expired)|"
        r"(message|envelope|queue) (expired|timed? ?out)|expired in (the )?queue|queue\.expired|"
        r"(have|has) been failing for a long time|giving up|give up|delivery time expired|"
        r"could not be delivered (within|for|after) .{0,20}(days?|hours?)|"
        r"unable to deliver (this message )?(in|after|within) .{0,20}(minutes|hours|days?)|"
        r"failed \d+ attempts|has not (yet )?been delivered .{0,80}(hours|days)|no longer tried|"
        r"maximum time|retry limit|delivery attempts? (exhausted|expired)|"
        r"retry time not reached for any host after a long failure period")),
    ("networkerror", _(
        r"connection (timed? ?out|refused|reset|closed|lost|dropped)|"
        r"(timed? ?out|timeout) (while|during|waiting|connecting|in connect)|lost connection|"
        r"no route to host|network (is )?unreachable|host (is )?(not )?(unreachable|reachable)|"
        r"(could not|couldn'?t|unable to|failed to|wasn'?t able to) (connect|establish)|"
        r"socket error|name service error|dns (error|failure|lookup)|"
        r"malformed or unexpected name server reply|too many hops|hop count|routing loop|"
        r"mail loop|loops? back|\btimed out\b|\bdeferred\b|network or routing")),
    ("failedstarttls", _(
        r"starttls|\btls\b.{0,30}(fail|error|not (supported|available))|"
        r"does not support (tls|starttls|encryption)|(ssl|tls) handshake")),
    ("contenterror", _(
        r"content[- ]type|mime (error|structure|boundary)|"
        r"(message|mail) content .{0,20}(invalid|not (allowed|accepted))|"
        r"improper use of 8-bit data|"
        r"(attachment|file type) .{0,40}(not (allowed|permitted)|prohibited|rejected)|"
        r"message (body|content) (has been|was) rejected|bad content")),
    # Authentication or encryption the receiver requires.
    ("securityerror", _(
        r"(smtp )?authentication (failed|required|is required|unsuccessful|credentials)|"
        r"auth(entication)? (mechanism|credentials) .{0,20}(invalid|rejected|required)|"
        r"turn on smtp authentication|must (be authenticated|authenticate)|"
        r"(security|encryption) (policy|requirement|error)|tls (is )?required|"
        r"must issue a starttls|not authori[sz]ed|unauthori[sz]ed|"
        r"(delivery|sending) not (authori[sz]ed|allowed)")),
    ("policyviolation", _(
        r"\bpolic(y|ies)\b|protocol violation|"
        r"(violat(es|ed|ion)|against) .{0,30}(policy|policies|terms|rules|acceptable use)|"
        r"\baup\b|prohibited|not (accepted|allowed) (by|due to|because of) (local|site|our)|"
        r"local (policy|rule)|administrative prohibition|denied by")),
    # An SMTP protocol error.
    ("syntaxerror", _(
        r"syntax error|command (not|unrecognized)|unrecognized command|"
        r"(bad|improper) sequence of commands|parameter not implemented|command parameter|"
        r"(line|command) too long")),
    # A local delivery program failed.
    ("mailererror", _(
        r"mailer error|procmail|\bx-unix\b|couldn'?t create|no such file or directory|"
        r"(program|command|pipe) .{0,30}(failed|error|exited)|exited with")),
    ("systemerror", _(
        r"system (error|problem|config)|internal (server |system )?error|"
        r"(server|service) (is )?(currently |temporarily )?(unavailable|"
        r"not available|busy|refused)|"
        r"temporar(il)?y (unavailable|failure|rejected|deferred)|local error|try (again )?later|"
        r"resources temporarily unavailable|transaction failed|ldap|unable to contact|i/o error|"
        r"\berror\b.{0,20}\bprocessing\b")),
    # A refusal that says no more than that: the last resort before the status code.
    ("rejected", _(
        r"groups\.google\.com/support|\baccess denied\b|\brejected\b|not (a )?member")),
)

KIND_OF_REASON: dict[str, Kind] = {
    **dict.fromkeys(("userunknown", "hostunknown", "hasmoved", "notaccept"), Kind.HARD_BOUNCE),
    **dict.fromkeys((
        "blocked", "rejected", "policyviolation", "authfailure", "badreputation",
        "requireptr", "norelaying", "notcompliantrfc", "securityerror", "spamdetected",
        "virusdetected", "contenterror", "speeding",
    ), Kind.BLOCKED),
    **dict.fromkeys((
        "mailboxfull", "expired", "networkerror", "systemerror", "systemfull",
        "toomanyconn", "mesgtoobig", "exceedlimit", "suspend", "filtered", "mailererror",
        "syntaxerror", "failedstarttls", "undefined",
    ), Kind.SOFT_BOUNCE),
}

# Enhanced status codes (RFC 3463 and the IANA registry) specific enough to name a reason.
REASON_OF_STATUS: dict[str, str] = {
    "5.1.0": "userunknown", "5.1.1": "userunknown", "5.1.3": "userunknown",
    "5.1.10": "userunknown", "5.1.2": "hostunknown", "5.1.6": "hasmoved",
    "5.1.7": "rejected", "5.1.8": "rejected", "5.2.1": "suspend", "5.2.2": "mailboxfull",
    "4.2.2": "mailboxfull", "5.2.3": "exceedlimit", "5.2.4": "systemerror",
    "5.3.1": "systemfull", "4.3.1": "systemfull", "5.3.4": "mesgtoobig",
    "5.3.5": "systemerror", "5.4.1": "userunknown", "5.4.4": "hostunknown",
    "5.4.6": "networkerror", "4.4.6": "networkerror", "5.4.7": "expired",
    "4.4.7": "expired", "5.5.0": "syntaxerror", "5.5.2": "syntaxerror",
    "5.5.4": "syntaxerror", "5.6.0": "contenterror", "5.6.1": "contenterror",
    "5.7.0": "policyviolation", "5.7.1": "rejected", "5.7.7": "securityerror",
    "5.7.8": "securityerror", "5.7.9": "securityerror", "5.7.13": "suspend",
    "5.7.17": "suspend", "5.7.18": "suspend", "5.7.20": "authfailure",
    "5.7.21": "authfailure", "5.7.22": "authfailure", "5.7.23": "authfailure",
    "5.7.24": "authfailure", "5.7.25": "requireptr", "5.7.26": "authfailure",
    "5.7.27": "notaccept", "4.4.0": "networkerror", "4.4.1": "networkerror",
    "4.4.2": "networkerror", "4.3.2": "toomanyconn", "4.7.0": "blocked", "4.7.1": "blocked",
}

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")


def rule_in_text(texts: Iterable[str]) -> str | None:
    """The first rule (``reason`` or ``reason.variant``) whose phrases appear in ``texts``."""
    lowered = [" ".join(text.lower().split()) for text in texts if text]
    for rule, pattern in RULES:
        if any(pattern.search(text) for text in lowered):
            return rule
    return None


def reason_in_text(texts: Iterable[str]) -> str | None:
    """The reason of the first rule that matches ``texts``."""
    rule = rule_in_text(texts)
    return rule.partition(".")[0] if rule else None


def reason_of_status(status: str | None) -> str | None:
    """The reason an enhanced status code states by itself, if it is specific enough."""
    return REASON_OF_STATUS.get(status) if status else None


def enhanced_codes(text: str) -> list[str]:
    """The RFC 3463 codes (``5.1.1``) found in ``text``, in order."""
    return [".".join(match) for match in _ENHANCED.findall(text)]


def kind_of(reason: str) -> Kind:
    """What the engine does about a reason; an unknown one is treated as temporary."""
    return KIND_OF_REASON.get(reason, Kind.SOFT_BOUNCE)
