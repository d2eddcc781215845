"""What the demo's prospects write back, in their own languages.

Replies come in three moods (``positive``: wants to talk; ``neutral``: a question or
"later"; ``negative``: no, but not an opt-out). Out-of-office notes state the return
day in a form the auto-reply reader knows; ``{date}`` is filled in by
``date_words``. Unsubscribe requests are what people actually write.
"""

from __future__ import annotations

from datetime import date

REPLIES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": ("Yes, let's talk Thursday. Does 10:00 my time work for you?",
                     "Good timing, we are looking at this right now. Can you send two slots "
                     "for next week?",
                     "Happy to take a call. I'm free Tuesday afternoon."),
        "neutral": ("Interesting. What does it cost for a team of eight?",
                    "Not the right moment, we are mid-reorg. Try me again in spring?",
                    "I'm not the right person, you want our RevOps lead."),
        "negative": ("Thanks, but we built our own tooling for this.",
                     "We're happy with what we have, thanks."),
    },
    "es": {
        "positive": ("Sí, hablemos el jueves. ¿Te va bien a las 10:00 de aquí?",
                     "Justo lo estamos mirando. ¿Me mandas dos horarios para la semana que "
                     "viene?"),
        "neutral": ("¿Cuánto cuesta para un equipo de ocho personas?",
                    "Ahora no es buen momento; escríbeme de nuevo en primavera."),
        "negative": ("Gracias, pero ya tenemos una herramienta interna.",),
    },
    "fr": {
        "positive": ("Oui, parlons-en jeudi. 10h heure de Paris, ça vous va ?",
                     "Bon timing, c'est un sujet chez nous. Vous avez un créneau mardi ?"),
        "neutral": ("Quel est le prix pour une équipe de huit personnes ?",
                    "Pas le bon moment pour nous, recontactez-moi au printemps."),
        "negative": ("Merci, mais nous avons déjà un outil interne.",),
    },
    "de": {
        "positive": ("Ja, lassen Sie uns am Donnerstag sprechen. Passt Ihnen 10 Uhr?",
                     "Gutes Timing, das Thema liegt gerade auf meinem Tisch. Haben Sie "
                     "nächste Woche Zeit?"),
        "neutral": ("Was kostet das für ein Team von acht Leuten?",
                    "Gerade passt es nicht, melden Sie sich gern im Frühjahr wieder."),
        "negative": ("Danke, wir haben dafür schon ein eigenes Tool.",),
    },
    "pt": {
        "positive": ("Sim, vamos conversar na quinta. 10h no meu horário funciona?",
                     "Bom momento, estamos avaliando isso agora. Pode mandar dois horários?"),
        "neutral": ("Quanto custa para uma equipe de oito pessoas?",
                    "Agora não é o momento, fale comigo de novo na primavera."),
        "negative": ("Obrigado, mas já temos uma ferramenta interna.",),
    },
    "nl": {
        "positive": ("Ja, laten we donderdag bellen. Past 10:00 mijn tijd?",
                     "Goede timing, we kijken hier nu naar. Kun je twee tijden sturen?"),
        "neutral": ("Wat kost het voor een team van acht mensen?",
                    "Nu even niet, probeer het in het voorjaar nog eens."),
        "negative": ("Bedankt, maar we hebben hier al eigen tooling voor.",),
    },
}

# (subject prefix, body with {date}): the first day the person is back is {date}.
OUT_OF_OFFICE: dict[str, tuple[str, str]] = {
    "en": ("Automatic reply: ", "Thank you for your message. I am out of the office and "
           "will be back on {date}, with limited access to email until then."),
    "es": ("Respuesta automática: ", "Gracias por tu mensaje. Estoy fuera de la oficina y "
           "estaré de vuelta el {date}."),
    "fr": ("Réponse automatique : ", "Merci pour votre message. Je suis absent du bureau, "
           "de retour le {date}."),
    "de": ("Abwesenheitsnotiz: ", "Vielen Dank für Ihre Nachricht. Ich bin nicht im Büro "
           "und ab dem {date} wieder erreichbar."),
    "pt": ("Resposta automática: ", "Obrigado pela mensagem. Estou fora do escritório e "
           "estarei de volta em {date}."),
    "nl": ("Automatisch antwoord: ", "Bedankt voor je bericht. Ik ben afwezig en vanaf "
           "{date} weer bereikbaar."),
}

UNSUBSCRIBE: dict[str, str] = {
    "en": "Please remove me from your mailing list.",
    "es": "Por favor, darme de baja de esta lista.",
    "fr": "Merci de me désinscrire de votre liste.",
    "de": "Bitte melden Sie mich von diesem Verteiler ab.",
    "pt": "Por favor, remover o meu e-mail da sua lista.",
    "nl": "Wilt u mij uitschrijven van deze lijst?",
}

QUOTE_INTRO: dict[str, str] = {
    "en": "On {date}, {sender} wrote:", "es": "El {date}, {sender} escribió:",
    "fr": "Le {date}, {sender} a écrit :", "de": "Am {date} schrieb {sender}:",
    "pt": "Em {date}, {sender} escreveu:", "nl": "Op {date} schreef {sender}:",
}

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
           "setembro", "outubro", "novembro", "dezembro"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
}


def date_words(day: date, language: str) -> str:
    """A day as a person writing ``language`` writes it in an out-of-office note."""
    month = MONTHS[language][day.month - 1]
    match language:
        case "en":
            return f"{month} {day.day}, {day.year}"
        case "de":
            return f"{day.day}. {month} {day.year}"
        case "es" | "pt":
            return f"{day.day} de {month} de {day.year}"
        case _:
            return f"{day.day} {month} {day.year}"
