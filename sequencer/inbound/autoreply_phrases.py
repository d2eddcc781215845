"""The words of automatic answers, in English, French, German, Spanish, Portuguese, Dutch
and Italian: out of office, vacation, leave, "no longer with the company", help-desk
acknowledgements.

The subject decides alone when it is the one an auto-responder writes ("Automatic
reply:", "Abwesenheitsnotiz:", "Respuesta automática:"...). The body is weighed: a
first-person absence ("I am out of the office", "je suis absente", "ich bin nicht im
Büro", "estoy fuera de la oficina", "estou de férias", "ik ben afwezig", "sono fuori
ufficio") counts more in the opening lines than further down; the usual companions
(limited access to email, whom to contact if urgent, "upon my return") add to it;
the marks of a person answering (an apology for the delay, "let's talk", a question)
take from it. "I was on holiday, sorry for the delay, yes let's talk" stays a reply.
All matching is done on folded text (lower case, no accents).
"""

from __future__ import annotations

import re

from sequencer.inbound.replytext import strip_quoted
from sequencer.inbound.textfold import fold

MAX_CHARS = 4_000  # an automatic answer says what it is at the top
OPENING_CHARS = 400  # where an absence statement weighs double
THRESHOLD = 2
_URL = re.compile(r"\S+://\S*|www\.\S*")

_TAGS = r"^(?:\[[^\]]{0,40}\]\s*|\([^)]{0,40}\)\s*)*"
_SUBJECT_ANYWHERE = re.compile(
    r"automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (?:the )?office"
    r"|reponse automatique|abwesenheitsnotiz|automatische antwort|respuesta automatica"
    r"|resposta automatica|automatisch antwoord|afwezigheidsbericht|risposta automatica"
    r"|fuori ufficio|fuera de la oficina|fora do escritorio|message d'absence"
    r"|(?:request|ticket|case|enquiry|inquiry) (?:received|created|opened|acknowledg)"
    r"|we(?:'ve| have) received your|your (?:request|ticket|message) has been received"
    r"|demande recue|anfrage erhalten|solicitud recibida|solicitacao recebida"
    r"|verzoek ontvangen|richiesta ricevuta"
)
_SUBJECT_START = re.compile(
    _TAGS + r"(?:away|absent|absente|absence|abwesend|abwesenheit|ausente|afwezig"
    r"|assente|vacation|on vacation|on leave|en conges?|en vacances|im urlaub|urlaub"
    r"|de vacaciones|de ferias|op vakantie|in ferie|ooo|fuori sede|out of office)\b"
)

_ABSENCE = re.compile(
    r"\bi(?: am|'m| will be|'ll be| shall be)(?: currently| now| presently| unfortunately)?"
    r" (?:out of (?:the )?office|ooo\b|out of town|away|on (?:annual |parental |maternity"
    r" |paternity |sick |medical |study |extended )?leave|on (?:vacation|holidays?|pto"
    r"|sabbatical|a business trip|business travel)|travell?ing|out (?:until|till|through"
    r"|from|on|of)|off (?:work|sick|until|till|through)|not (?:in the office|available"
    r"|at work|working|in)|unavailable|attending)"
    r"|\bje (?:suis|serai)(?: actuellement| en ce moment| absolument)? (?:absente?|en (?:conges?"
    r"|vacances|deplacement|arret maladie|formation|conge maternite)|hors du bureau"
    r"|indisponible|en dehors du bureau|pas au bureau)"
    r"|\bich (?:bin|befinde mich)(?: derzeit| zurzeit| momentan| aktuell| leider)?"
    r"(?: bis [^!?]{0,40}?)?(?: vom [^!?]{0,40}?)? (?:nicht im (?:buro|haus|hause)"
    r"|nicht erreichbar|abwesend|im urlaub|ausser haus|auf (?:dienst)?reisen?|in elternzeit"
    r"|krank|unterwegs)"
    r"|\bbin ich (?:nicht im buro|abwesend|nicht erreichbar|im urlaub)"
    r"|\b(?:estoy|estare|me encuentro)(?: actualmente)? (?:fuera de (?:la )?oficina|fuera"
    r"|ausente|de vacaciones|de viaje|de baja|de permiso|sin acceso)"
    r"|\b(?:estou|estarei|encontro-me|me encontro)(?: atualmente)? (?:fora do escritorio|fora"
    r"|ausente|de ferias|em viagem|de licenca|sem acesso)"
    r"|\bik ben(?: momenteel| op dit moment)?(?: (?:tot en met|tot|van|vanaf) [^!?]{0,40}?)?"
    r" (?:afwezig|niet (?:op kantoor|aanwezig|bereikbaar)|op vakantie|met vakantie|met verlof"
    r"|buiten kantoor)"
    r"|\bben ik (?:afwezig|niet (?:op kantoor|aanwezig|bereikbaar)|op vakantie|met vakantie)"
    r"|\b(?:sono|saro)(?: attualmente)? (?:fuori (?:ufficio|sede)|assente|in ferie|in vacanza"
    r"|in viaggio|in trasferta|in maternita|in malattia)"
)
_GONE = re.compile(
    r"\bno longer (?:with|at|works? (?:at|for)|employed|part of|working)"
    r"|\b(?:has|have) left (?:the company|the organi[sz]ation|the firm)"
    r"|\b(?:address|mailbox|account) is no longer (?:active|monitored|in use|valid)"
    r"|\bne fait plus partie|\bn'est plus (?:en poste|chez|employe|dans|joignable a cette)"
    r"|\ba quitte (?:la societe|l'entreprise|le groupe)|\bcette adresse n'est plus"
    r"|\bnicht mehr (?:im unternehmen|bei uns|fur uns|tatig|beschaftigt|in unserem)"
    r"|\bhat (?:das unternehmen|unser unternehmen|die firma) verlassen"
    r"|\bdiese (?:e-mail-)?adresse (?:ist|wird) nicht mehr"
    r"|\bya no (?:trabaja|forma parte|esta en|labora|pertenece)"
    r"|\besta (?:direccion|cuenta)(?: de correo)? ya no"
    r"|\b(?:nao|ja nao) (?:faz|trabalha) mais|\bja nao (?:faz parte|trabalha)"
    r"|\bdeixou a empresa|\beste (?:e-mail|endereco) nao (?:e|esta) mais"
    r"|\bniet (?:meer|langer) (?:werkzaam|in dienst|actief)|\bis uit dienst"
    r"|\bnon (?:fa|lavora) piu|\bha lasciato (?:l'azienda|la societa)"
    r"|\bquesto indirizzo non e piu"
)
_ACKNOWLEDGED = re.compile(
    r"\bwe(?:'ve| have) received your (?:request|message|e-?mail|inquiry|enquiry|ticket)"
    r"|\byour (?:request|ticket|message|case|inquiry|enquiry)(?: \(?#?\d+\)?)?"
    r" (?:has been|was|is) (?:received|created|logged|opened)"
    r"|\b(?:a member of our|one of our|our support) (?:team|agents?|staff)"
    r" will (?:get back|respond|reply|be in touch|contact)"
    r"|\bnous avons (?:bien )?recu votre (?:demande|message|e-?mail)"
    r"|\bvotre (?:demande|ticket) (?:a ete|a bien ete) (?:recue?|enregistree?|cree)"
    r"|\bwir haben ihre (?:anfrage|nachricht|e-mail) erhalten"
    r"|\bihre (?:anfrage|nachricht) (?:ist|wurde) (?:bei uns )?(?:eingegangen|erfasst)"
    r"|\bhemos recibido su (?:solicitud|mensaje|correo|consulta)"
    r"|\bsu (?:solicitud|ticket|caso) (?:ha sido|fue) (?:recibid|registrad|cread)"
    r"|\brecebemos (?:a )?sua (?:solicitacao|mensagem|requisicao)"
    r"|\bseu (?:chamado|ticket|pedido) foi (?:aberto|registrado|recebido)"
    r"|\bwij hebben uw (?:aanvraag|verzoek|bericht|e-mail|vraag) (?:in goede orde )?ontvangen"
    r"|\buw (?:aanvraag|verzoek|vraag) is (?:ontvangen|geregistreerd)"
    r"|\babbiamo ricevuto la (?:sua|tua) (?:richiesta|e-?mail|mail|segnalazione)"
    r"|\bla (?:sua|tua) richiesta e stata (?:ricevuta|registrata)"
)
_AUTOMATIC = re.compile(
    r"\bthis is an? automat(?:ic|ed)(?: \w+)? (?:reply|response|message|e-?mail|notification)"
    r"|\b(?:automatic|automated|auto)[- ]?(?:reply|response)\b"
    r"|\b(?:ceci est un(?:e)?|ce) (?:reponse|message) automatique|\breponse automatique"
    r"|\bdies ist eine automatische|\bautomatische (?:antwort|abwesenheitsnotiz)"
    r"|\besta es una respuesta automatica|\brespuesta automatica|\bmensaje automatico"
    r"|\besta e uma resposta automatica|\bresposta automatica|\bmensagem automatica"
    r"|\bdit is een automatisch|\bautomatisch (?:antwoord|bericht|gegenereerd)"
    r"|\bquesta e una risposta automatica|\brisposta automatica|\bmessaggio automatico"
)
_COMPANIONS = re.compile(
    r"\b(?:limited|intermittent|no|without|restricted|sporadic) access to (?:my )?e-?mail"
    r"|\bfor (?:urgent|immediate|pressing) (?:\w+ )?(?:matters|assistance|requests|inquiries"
    r"|issues|questions|needs)|\bif (?:this is|your (?:matter|request) is) urgent"
    r"|\bin case of (?:emergency|urgency)|\bplease contact my colleague"
    r"|\bif you need (?:immediate|urgent) (?:assistance|help|support)"
    r"|\b(?:mailbox|inbox|address) is (?:not|no longer) (?:being )?(?:monitored|checked)"
    r"|\b(?:upon|on|after) my return|\bwhen i (?:return|am back|get back)"
    r"|\bwill (?:not be forwarded|be (?:read|answered) (?:upon|on|after|when))"
    r"|\bacces (?:limite|restreint)|\ben cas d'urgence|\bpour toute (?:urgence|demande urgente)"
    r"|\b(?:des|a) mon retour|\bvous pouvez (?:contacter|joindre)"
    r"|\bin dringenden fallen|\bnach meiner ruckkehr|\beingeschrankte?m? zugriff"
    r"|\bbitte wenden sie sich|\bwird nicht weitergeleitet"
    r"|\ben caso de urgencia|\bpara (?:asuntos|temas) urgentes|\ba mi regreso"
    r"|\bacceso limitado|\bpuede (?:contactar|comunicarse)"
    r"|\bem caso de urgencia|\bpara assuntos urgentes|\b(?:no|apos o) meu (?:regresso|retorno)"
    r"|\bquando (?:eu )?retornar|\bacesso limitado"
    r"|\bin dringende gevallen|\bvoor dringende zaken|\bna mijn terugkomst"
    r"|\bbeperkt (?:toegang|bereikbaar)|\bkunt u contact opnemen"
    r"|\bin caso di urgenza|\bper (?:questioni|richieste) urgenti|\bal mio rientro"
    r"|\baccesso limitato|\bpuo contattare"
)
_PERSON = re.compile(
    r"\b(?:sorry|apologies|apologize|apologise) (?:for|about) (?:the|my) (?:late|delay"
    r"|delayed|slow)|\blet'?s (?:talk|chat|meet|connect|schedule|set up|find|do|hop)"
    r"|\bsounds (?:good|great|interesting)|\bhappy to (?:chat|talk|connect|meet|help)"
    r"|\b(?:i'm|i am|we're|we are) (?:very |definitely |quite )?interested"
    r"|\bjust (?:got|came) back|\bi was (?:on|out|away|travell?ing)|\bcall me\b"
    r"|\bsend me (?:more|the|a|some)|\b(?:can|could|shall) we\b|\bare you (?:free|available)"
    r"|\bhow about\b|\bwhat about\b"
    r"|\bdesolee? (?:pour|du) (?:le|mon) retard|\bavec plaisir|\bje suis interessee?"
    r"|\bpouvons-nous|\bon peut (?:se parler|en discuter|s'appeler)"
    r"|\bentschuldigen sie die (?:spate|verspatete)|\bich bin interessiert|\bkonnen wir"
    r"|\blassen sie uns|\bsorry fur die (?:spate|verspatete)"
    r"|\b(?:perdon|disculpa|disculpe|disculpen) (?:por )?la demora|\bme interesa"
    r"|\bpodemos (?:hablar|agendar|conversar|quedar)"
    r"|\bdesculpe? (?:a|pela) demora|\btenho interesse|\bpodemos (?:falar|marcar)"
    r"|\bsorry voor de (?:late|vertraagde)|\bik ben geinteresseerd|\bkunnen we"
    r"|\blaten we|\bscus(?:a|ate|i) (?:per )?il ritardo|\bmi interessa"
    r"|\bpossiamo (?:sentirci|parlare|fissare)"
)


def subject_is_auto_reply(subject: str) -> bool:
    """Whether ``subject`` is one an auto-responder writes ("Automatic reply: ...")."""
    folded = fold(subject).strip()[:300]
    return bool(_SUBJECT_ANYWHERE.search(folded) or _SUBJECT_START.match(folded))


def looks_like_auto_reply(subject: str, text: str) -> bool:
    """Whether the subject or text reads like an out-of-office or other automatic answer.

    Parameters:
        subject: the message's subject, decoded.
        text: its body as text; quoted history below it is ignored.

    Returns:
        True when the subject is an auto-responder's, or the body's score reaches
        ``THRESHOLD`` (see the module docstring).
    """
    return subject_is_auto_reply(subject) or body_score(text) >= THRESHOLD


def body_score(text: str) -> int:
    """How strongly the new text of ``text`` reads as automatic (positive) or personal."""
    body = fold(strip_quoted(text[: MAX_CHARS * 4])[:MAX_CHARS])
    body = " ".join(body.split())
    opening = body[:OPENING_CHARS]
    score = 3 if _AUTOMATIC.search(body) else 0
    for statement in (_ABSENCE, _GONE, _ACKNOWLEDGED):
        if statement.search(opening):
            score += 2
        elif statement.search(body):
            score += 1
    score += min(2, len(_COMPANIONS.findall(body)))
    score -= 2 * min(2, len(_PERSON.findall(body)))
    if "?" in _URL.sub("", body):
        score -= 1
    return score
