"""A person asking, in their own words, to be removed: in English, French, German,
Spanish, Portuguese, Dutch and Italian.

Conservative, because an unsubscribe suppresses the address for good:

* "not interested right now, try me next quarter" is a reply, and so is "don't email
  me until March": only "don't contact me" said for good ("again", "anymore", or
  nothing after it) is a request;
* a request verb after a negation in the same clause is not one ("don't unsubscribe
  me", "I didn't unsubscribe", "ne me désabonnez pas", "nicht abmelden");
* footer lines that survived quote removal ("Unsubscribe here", "To unsubscribe,
  click...", "Si vous ne souhaitez plus recevoir...") and links are not read;
* "remove me from this thread" is not a request to leave the list.

The text is the new text of a reply (quotes removed); only its first ``MAX_CHARS``
are read.
"""

from __future__ import annotations

import re

from sequencer.inbound.textfold import fold

MAX_CHARS = 3_000
NEGATION_REACH = 30  # characters before a request verb in which a negation cancels it

_LINK = re.compile(r"<[^<>\s]{0,300}>|\S+://\S*|www\.\S+|mailto:\S+|\S+@\S+")
_QUOTED_LINE = re.compile(r"^\s*>")
_FOOTER = re.compile(
    r"^\W*(?:unsubscribe|se desabonner|desabonnement|desinscription|abmelden|abbestellen"
    r"|darse de baja|baja|cancelar (?:la )?suscripcion|descadastrar|cancelar inscricao"
    r"|uitschrijven|afmelden|annulla(?:re)? (?:l')?iscrizione|disiscriviti|opt[- ]?out)"
    r"(?: (?:here|now|ici|hier|aqui|qui))?\W*(?:$|[:|<(\[])"
    r"|click here|here to unsubscribe|\bto unsubscribe(?:,| from| click| send| visit| please"
    r"| reply| simply| use)|unsubscribe from (?:this|our|these|all)"
    r"|if you (?:no longer|don't|do not) (?:wish|want) to (?:receive|get|hear)"
    r"|you (?:are|were) receiving this|you received this (?:e-?mail|message)"
    r"|manage (?:your )?(?:e-?mail )?(?:preferences|subscriptions?)|update your preferences"
    r"|view (?:it |this e-?mail )?in (?:your )?browser|unsubscribe link"
    r"|pour vous desabonner|pour vous desinscrire|si vous ne (?:souhaitez|voulez) plus"
    r"|cliquez ici|um sich (?:abzumelden|auszutragen)|wenn sie (?:diese|keine)"
    r"|klicken sie hier|para darse de baja|si no desea(?:s)? recibir|haga clic aqui"
    r"|para cancelar (?:su|a) (?:suscripcion|inscricao)|se (?:voce )?nao (?:deseja|quiser)"
    r"|clique aqui|om (?:je|u|zich) af te melden|als u geen|klik hier"
    r"|per annullare l'iscrizione|se non (?:desideri|desidera|vuoi)|clicca qui"
)
_SENTENCE = re.compile(r"[^.!?;\n]+")

# The middle of a separable verb ("melden Sie mich ... ab"), without a "nicht" in it.
_UNNEGATED = r"(?:(?!\bnicht\b)[^.!?\n]){0,30}"
# Verbs that ask for removal; a negation before them in the clause cancels them.
_REQUEST = re.compile(
    r"\bunsubscrib(?:e|ed|ing)\b(?! (?:link|button|page|option|form|footer)s?\b)"
    r"|\b(?:remove|delete|erase|drop|strike) (?:me|us|my (?:e-?mail|address|name|details|data"
    r"|contact(?: details| info)?)|this (?:e-?mail|address))\b"
    r"|\btake (?:me|us|my (?:e-?mail|address|name)) (?:off|out)\b"
    r"|\b(?:stop|quit|cease) (?:e-?mailing|mailing|contacting|messaging|sending|spamming"
    r"|writing|bothering|harassing|pestering|calling)\b"
    r"|\b(?:i|we) (?:want|would like|wish|'d like|need|ask|request) to (?:be )?(?:removed"
    r"|taken off|opt(?:ed)?[- ]?out|stop receiving)"
    r"|\bopt(?:ing)? (?:me |us )?out\b|\bopt-out\b(?= (?:please|now|of (?:this|these|your)))"
    r"|\bleave (?:me|us) alone\b"
    r"|\b(?:put|add) (?:me|us|my (?:e-?mail|address)) (?:on|to) (?:your|the) (?:do[- ]not"
    r"|suppression|blacklist|block)"
    r"|\bdesabonn\w*|\bdesinscri\w*"
    r"|\b(?:retirez|supprimez|enlevez|effacez|rayez)[- ]moi\b"
    r"|\b(?:retirer|supprimer|enlever|effacer|rayer) (?:mon adresse|mes coordonnees"
    r"|mon e-?mail|mon nom|moi)\b|\bme (?:retirer|supprimer|rayer) de\b"
    r"|\babmelden\b|\babgemeldet\b|\b(?:melden|meldet) sie mich\b" + _UNNEGATED + r"\bab\b"
    r"|\babbestellen\b|\baustragen\b|\bausgetragen\b|\btragen sie mich\b" + _UNNEGATED
    + r"\baus\b"
    r"|\b(?:entfernen|loschen|streichen) sie (?:mich|meine (?:adresse|daten|e-?mail))"
    r"|\baus (?:ihrem|dem|ihrer) (?:verteiler|liste|newsletter|datenbank)"
    r"[^.!?\n]{0,20}\b(?:nehmen|entfernen|streichen|loschen)"
    r"|\bdar(?:me|nos) de baja|\bden(?:me)? de baja|\bdame de baja|\bdarse de baja"
    r"|\b(?:quiero|solicito|pido) (?:la|mi) baja|\bdesuscrib\w*|\bdesinscrib\w*"
    r"|\bcancelar (?:mi |la )?suscripcion"
    r"|\b(?:eliminen|elimine|elimina|borren|borre|quiten|quite|saquen|saque)(?:me)?"
    r" (?:de (?:su|la|vuestra|esta) (?:lista|base)|mi (?:correo|direccion|email|e-mail))"
    r"|\b(?:eliminarme|borrarme|sacarme|quitarme|eliminadme|borradme|sacadme|quitadme)\b"
    r"|\bdescadastr\w*|\bremova-me\b|\bme remova\b|\bme retire\b"
    r"|\bremov\w* (?:da|de|do) (?:lista|sua lista|base|cadastro|mailing)"
    r"|\bremover (?:o )?(?:meu|o meu) (?:e-?mail|endereco|contato)"
    r"|\bcancelar (?:a )?(?:minha )?inscricao|\bsair da (?:sua )?lista"
    r"|\buitschrijven\b|\bschrijf (?:mij|me) uit\b|\buitgeschreven\b|\bafmelden\b"
    r"|\bmeld (?:mij|me) af\b|\bafgemeld\b"
    r"|\bverwijder (?:mij|me|mijn (?:e-?mail|adres|gegevens))\b"
    r"|\bverwijderd (?:worden )?(?:uit|van) (?:uw|jullie|de|het) (?:lijst|mailinglijst"
    r"|bestand|database)"
    r"|\bcancellami\b|\bcancellatemi\b|\bdisiscriv\w*|\bdisiscrizione\b"
    r"|\bcancellare (?:il mio|la mia) (?:indirizzo|email|e-mail|iscrizione)"
    r"|\bannullare (?:l')?iscrizione|\brimuovetemi\b|\brimuovimi\b|\btoglietemi\b|\btoglimi\b"
    r"|\brimuovere (?:il mio|la mia) (?:indirizzo|email|e-mail|contatto)"
)
# Requests that are negative in form: "don't contact me again", "keine E-Mails mehr".
_STOP = re.compile(
    r"\b(?:do not|don't|dont|never) (?:e-?mail|contact|mail|message|write(?: to)?|reach out to"
    r"|send (?:me|us) (?:any|more|further|these)?\s*(?:e-?mails|messages)?|spam|bother|call)"
    r" (?:me|us)(?: (?:again|anymore|any more|ever again|further|in the future|going forward"
    r"|please))?\s*(?:[.!,;]|$)"
    r"|\bno (?:more|further) (?:e-?mails?|messages|contact|mails?|outreach|follow[- ]?ups)\b"
    r"|\b(?:i|we) (?:do not|don't|no longer) (?:want|wish|care) to (?:receive|get|hear from)"
    r"|\bne plus (?:recevoir|etre contacte|me contacter|m'ecrire|me solliciter)"
    r"|\bje ne (?:souhaite|veux|desire) plus (?:recevoir|etre contacte)"
    r"|\bne me (?:contactez|recontactez|ecrivez|envoyez|sollicitez|relancez) plus\b"
    r"|\barretez de (?:m'envoyer|m'ecrire|me contacter|me solliciter|me relancer)"
    r"|\bkeine (?:weiteren (?:e-?mails|mails|nachrichten|werbung|kontaktaufnahmen?)"
    r"|(?:e-?mails|mails|nachrichten|werbung) mehr)\b"
    r"|\b(?:kontaktieren|schreiben|mailen) sie mir nicht mehr|\bkontaktieren sie mich nicht mehr"
    r"|\bnicht mehr (?:kontaktieren|anschreiben|anrufen|anmailen)\b"
    r"|\bno me (?:escrib|contact|envi|mand|llam)\w* (?:mas|nunca)\b"
    r"|\bno (?:deseo|quiero) recibir (?:mas|ningun)"
    r"|\bdejen de (?:enviarme|escribirme|contactarme|mandarme)"
    r"|\bnao (?:quero|desejo) (?:mais )?receber|\bnao (?:me )?(?:envie|enviem|mande|mandem"
    r"|contate|contatem|escreva|escrevam) mais\b|\bparem de (?:me )?(?:enviar|mandar|contatar"
    r"|escrever)"
    r"|\bgeen (?:e-?mails|mails|berichten) meer\b|\bniet meer (?:mailen|e-?mailen|contacteren"
    r"|benaderen|bellen)\b|\bstop met (?:mailen|e-?mailen|sturen)"
    r"|\bnon (?:voglio|desidero) (?:piu )?ricevere|\bnon (?:mi )?(?:contattate|scrivete"
    r"|inviate|mandate)\w* piu\b|\bnon contattatemi piu\b|\bnon scrivetemi piu\b"
    r"|\bsmettete(?:la)? di (?:scrivermi|contattarmi|inviarmi|mandarmi)"
)
_NEGATION = re.compile(
    r"n't\b|\b(?:not|never|no need to|dont|didnt|ne|n'|nicht|nie|kein|no|nunca|nao|niet"
    r"|geen|non|mai)\b"
)
_NOT_A_REQUEST = re.compile(
    r"\b(?:was|were|been|got|get) (?:i |we )?unsubscribed"
    r"|\bremove me (?:from|off) (?:the |this |your )?(?:cc|thread|loop|chain|conversation)"
)
_ALONE = frozenset({
    "unsubscribe", "stop", "remove", "remove me", "opt out", "desabonner", "se desabonner",
    "desinscription", "abmelden", "austragen", "baja", "de baja", "darme de baja",
    "descadastrar", "uitschrijven", "afmelden", "cancellami", "disiscrivimi", "cancelar",
})


def asks_to_unsubscribe(text: str) -> bool:
    """Whether the new text of a reply (quotes removed) asks to stop or be removed.

    Parameters:
        text: what the person wrote, without the quoted history.

    Returns:
        True for a request in any of the seven languages; False for a mention that
        is negated, a footer, or a wish to be contacted later.
    """
    folded = fold(text[: MAX_CHARS * 2])[:MAX_CHARS]
    lines = [line for line in folded.split("\n") if line.strip()]
    if lines and _bare(lines[0]) in _ALONE:
        return True  # "Unsubscribe" on its own first line; further down it is a footer
    kept = [_LINK.sub(" ", line) for line in lines
            if not _QUOTED_LINE.match(line) and not _FOOTER.search(line)]
    return any(_sentence_asks(sentence.group(0))
               for sentence in _SENTENCE.finditer("\n".join(kept)))


def _bare(line: str) -> str:
    return " ".join(re.sub(r"[^\w' -]", " ", line).split()).strip(" -")


def _sentence_asks(sentence: str) -> bool:
    if _STOP.search(sentence.strip()):
        return True
    if _NOT_A_REQUEST.search(sentence):
        return False
    for request in _REQUEST.finditer(sentence):
        clause = re.split(r"[,:(]", sentence[max(0, request.start() - NEGATION_REACH):
                                             request.start()])[-1]
        if not _NEGATION.search(clause):
            return True
    return False
