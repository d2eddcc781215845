"""Auto-replies: an out-of-office pauses the sequence until the person is back, and a
person who merely mentions a holiday is still a reply that stops it.

The fixtures are out-of-office and acknowledgement answers as Gmail, Office 365,
Exchange, Outlook.com, Yahoo, iCloud and Zendesk send them (their headers), in the
seven languages, and human replies that mention holidays.
"""

from __future__ import annotations

import time
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from sequencer.inbound.autoreply import auto_reply_headers, looks_like_auto_reply, return_date
from tests.corpus import CORPUS, corpus_labels

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inbound"


class Mail:
    """A fixture parsed the way the classifier parses it."""

    def __init__(self, path: Path) -> None:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.message = message
        self.subject = str(message["Subject"] or "")
        body = message.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage), f"{path}: no text/plain part"
        self.text = str(body.get_content())
        sent = message["Date"]
        self.received = parsedate_to_datetime(str(sent)).date() if sent else None


def built(headers: dict[str, str], body: str = "Hello") -> EmailMessage:
    """A message with ``headers``, written to bytes and parsed back."""
    message = EmailMessage()
    message["From"] = "Dana Brooks <dbrooks@contoso-us.example>"
    message["To"] = "Sam Sender <sam@outreach-sender.example>"
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# -- out-of-office answers, as the providers send them -------------------------------
AUTO_REPLIES = {  # fixture: the first day the person says they are available
    "gmail_en.eml": date(2025, 3, 17),  # "back on Monday, March 17th"
    "office365_fr.eml": date(2025, 3, 15),  # "jusqu'au 14 mars inclus"
    "exchange_de.eml": date(2025, 8, 18),  # "bis 15.08.2025 ... ab dem 18. August wieder"
    "outlookcom_es.eml": date(2026, 1, 8),  # "hasta el 7 de enero", sent in December
    "yahoo_pt.eml": date(2025, 2, 11),  # "até 10 de fevereiro"
    "gmail_nl.eml": date(2026, 1, 5),  # "tot en met vrijdag 2 januari en vanaf maandag 5..."
    "office365_it.eml": date(2025, 8, 23),  # "fino al 22 agosto"
    "icloud_en.eml": date(2025, 5, 27),  # "back Tuesday, May 27"
    "office365_en_us.eml": date(2025, 3, 17),  # "will return on Monday 3/17"
    "outlookcom_de.eml": date(2025, 4, 14),  # "Ab Montag bin ich wieder im Büro"
    "office365_en_left.eml": None,  # no longer with the company
    "zendesk_en.eml": None,  # "[Request received]"
    "zendesk_nl.eml": None,  # "[Verzoek ontvangen]"
}


@pytest.mark.parametrize("name", sorted(AUTO_REPLIES))
def test_out_of_office_answers_are_automatic_by_their_headers(name: str) -> None:
    assert auto_reply_headers(Mail(FIXTURES / "autoreply" / name).message)


@pytest.mark.parametrize("name", sorted(AUTO_REPLIES))
def test_out_of_office_answers_read_as_automatic_by_their_words(name: str) -> None:
    mail = Mail(FIXTURES / "autoreply" / name)
    assert looks_like_auto_reply(mail.subject, mail.text)
    assert looks_like_auto_reply("Re: Quick question", mail.text) or name.startswith("zendesk")


@pytest.mark.parametrize(("name", "back"), sorted(AUTO_REPLIES.items()))
def test_the_return_date_is_the_first_day_the_person_is_available(
        name: str, back: date | None) -> None:
    mail = Mail(FIXTURES / "autoreply" / name)
    assert return_date(mail.text, received=mail.received) == back


HUMAN_REPLIES = sorted(path.name for path in (FIXTURES / "human").glob("*.eml"))


@pytest.mark.parametrize("name", HUMAN_REPLIES)
def test_a_person_who_mentions_a_holiday_is_still_a_reply(name: str) -> None:
    mail = Mail(FIXTURES / "human" / name)
    assert not auto_reply_headers(mail.message)
    assert not looks_like_auto_reply(mail.subject, mail.text)


# -- headers alone -------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Auto-Submitted": 'auto-replied; owner-email="dbrooks@contoso-us.example"'},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
    {"X-Autoresponder": "Will not send another autoreply for 86400 seconds"},
    {"Precedence": "auto_reply"},
    {"X-Apple-Action": "VACATION"},
    {"X-MS-Exchange-Inbox-Rules-Loop": "dbrooks@contoso-us.example"},
    {"X-Vacation": "yes"},
])
def test_one_strong_header_is_enough(headers: dict[str, str]) -> None:
    assert auto_reply_headers(built({"Subject": "Re: Quick question", **headers}))


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "no"},
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"X-Auto-Response-Suppress": "All"},
    {"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"},
    {"X-Mailer": "Zendesk Mailer"},
    {"X-Autoreply": "no"},
    # A newsletter: bulk, a list, a loop guard: nothing here answers anyone.
    {"Precedence": "bulk", "List-Id": "<news.contoso-us.example>", "X-Loop": "news"},
])
def test_a_weak_header_alone_is_not_an_auto_reply(headers: dict[str, str]) -> None:
    assert not auto_reply_headers(built({"Subject": "Re: Quick question", **headers}))


def test_outlook_meeting_responses_carry_auto_response_suppress_and_are_not_auto_replies(
        ) -> None:
    accepted = built({"Subject": "Accepted: Intro call", "X-Auto-Response-Suppress": "RN, NRN, OOF",
                      "Thread-Topic": "Intro call"})
    assert not auto_reply_headers(accepted)


@pytest.mark.parametrize("headers", [
    {"Subject": "Automatic reply: Quick question", "X-Auto-Response-Suppress": "All"},
    {"Subject": "Out of Office: Quick question", "Precedence": "bulk"},
    {"Subject": "Re: Quick question", "X-Auto-Response-Suppress": "All",
     "X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"},
    {"Subject": "[Request received] Quick question", "X-Mailer": "Zendesk Mailer"},
    {"Subject": "Re: Quick question", "Precedence": "junk", "Return-Path": "<>"},
])
def test_two_weak_signs_together_make_an_auto_reply(headers: dict[str, str]) -> None:
    assert auto_reply_headers(built(headers))


def test_a_plain_human_reply_has_no_automatic_header() -> None:
    reply = built({"Subject": "Re: Quick question", "In-Reply-To": "<a@outreach-sender.example>",
                   "X-Mailer": "Microsoft Outlook 16.0", "Thread-Index": "AQHbj2gq3xYpK0b9"})
    assert not auto_reply_headers(reply)


# -- words alone ---------------------------------------------------------------------
@pytest.mark.parametrize("subject", [
    "Automatic reply: Quick question", "Out of Office: Quick question", "Auto-Reply: Hello",
    "AutoReply: Hello", "Réponse automatique : Quick question", "Absence du bureau",
    "Abwesenheitsnotiz: Kurze Frage", "Automatische Antwort: Kurze Frage",
    "Respuesta automática: Pregunta rápida", "Fuera de la oficina", "Ausente",
    "Resposta automática: Pergunta rápida", "Automatisch antwoord: Korte vraag", "Afwezig",
    "Risposta automatica: Domanda veloce", "Fuori ufficio", "[EXT] Automatic reply: Hi",
    "[Request received] Quick question", "Away until May 5",
])
def test_an_auto_responders_subject_is_enough(subject: str) -> None:
    assert looks_like_auto_reply(subject, "")


@pytest.mark.parametrize("subject", [
    "Re: Quick question", "RE: Holiday plans for the team offsite", "AW: Kurze Frage",
    "Re: Your out-of-pocket costs", "Re: Absent minded",
])
def test_an_ordinary_reply_subject_says_nothing(subject: str) -> None:
    assert not looks_like_auto_reply(subject, "Sounds good, talk soon.")


@pytest.mark.parametrize("text", [
    "Thank you for your email. I am out of the office until 14 March with limited access to "
    "email. For urgent matters please contact jane@example.com.",
    "Je suis absente jusqu'au 3 mars inclus. En cas d'urgence, vous pouvez contacter Paul.",
    "Vielen Dank für Ihre Nachricht. Ich bin bis zum 5. Januar nicht im Büro. Ihre Nachricht "
    "wird nicht weitergeleitet.",
    "Gracias por su mensaje. Estaré fuera de la oficina hasta el 7 de enero.",
    "Obrigado pela mensagem. Estarei ausente até 10 de fevereiro, com acesso limitado.",
    "Bedankt voor uw bericht. Ik ben afwezig tot en met 12 januari.",
    "Grazie per il messaggio. Sarò fuori ufficio fino al 9 gennaio, al mio rientro risponderò.",
    "Please note that Mark is no longer with Fabrikam. Please contact sales@fabrikam.example.",
    "We have received your request and a member of our team will get back to you shortly.",
    "This is an automatic reply: I am travelling this week.",
])
def test_the_words_of_an_automatic_answer_are_enough(text: str) -> None:
    assert looks_like_auto_reply("Re: Quick question", text)


@pytest.mark.parametrize("text", [
    "I was on holiday, sorry for the delay — yes let's talk.",
    "I'm out of the office until Friday, but yes, I'm interested. Can we talk Monday?",
    "Je rentre de vacances, désolé pour le retard. Avec plaisir pour un appel.",
    "Ich war im Urlaub. Können wir nächste Woche telefonieren?",
    "Estuve de vacaciones, perdón por la demora. ¿Podemos hablar el lunes?",
    "Estive de férias, desculpe a demora. Podemos falar na segunda?",
    "Ik was op vakantie, sorry voor de late reactie. Kunnen we maandag bellen?",
    "Ero in ferie, scusa il ritardo. Possiamo sentirci lunedì?",
    "Thanks Sam. Not right now, we are going through a reorg. Try me in Q3.",
])
def test_a_person_writing_about_their_absence_is_not_an_automatic_answer(text: str) -> None:
    assert not looks_like_auto_reply("Re: Quick question", text)


def test_an_absence_in_the_quoted_history_does_not_count() -> None:
    text = ("Yes, Tuesday works.\n\nOn Mon, Mar 3, 2025 at 9:02 AM Ana <ana@example.com> "
            "wrote:\n> I am out of the office until 14 March with limited access to email.\n")
    assert not looks_like_auto_reply("Re: Quick question", text)


# -- return dates --------------------------------------------------------------------
FRIDAY = date(2026, 2, 20)


@pytest.mark.parametrize(("text", "back"), [
    ("I will be back on 14 August.", date(2026, 8, 14)),
    ("I'm out of the office until 14/08.", date(2026, 8, 15)),
    ("Out of office, returning 2026-03-05.", date(2026, 3, 5)),
    ("I'm out of the office until Friday, March 6th, back on Monday, March 9th.",
     date(2026, 3, 9)),
    ("I am away until the 3rd.", date(2026, 3, 4)),
    ("I'm out, back Monday.", date(2026, 2, 23)),
    ("I'm back at 9.30 on Monday.", date(2026, 2, 23)),
    ("Out of office until tomorrow.", date(2026, 2, 22)),
    ("I'll be back next week.", date(2026, 2, 23)),
    ("I'm out of the office Friday.", date(2026, 2, 28)),
    ("I will be traveling for work on July 10-31.", date(2026, 8, 1)),
    ("Out of office from March 3 to March 14.", date(2026, 3, 15)),
    ("Je suis absent jusqu'au 3 mars inclus.", date(2026, 3, 4)),
    ("Je serai de retour le lundi 2 mars.", date(2026, 3, 2)),
    ("Je suis en congés du 3 au 14 mars.", date(2026, 3, 15)),
    ("Ich bin ab dem 5. Januar wieder im Büro.", date(2027, 1, 5)),
    ("Ich bin bis einschließlich 14.08. nicht im Büro.", date(2026, 8, 15)),
    ("Ich bin vom 3. bis 14. März im Urlaub.", date(2026, 3, 15)),
    ("Am 3. März bin ich wieder erreichbar.", date(2026, 3, 3)),
    ("Estaré fuera de la oficina hasta el 7 de enero.", date(2027, 1, 8)),
    ("Estaré de vuelta a partir del 2 de marzo.", date(2026, 3, 2)),
    ("Estoy de vacaciones del 3 al 14 de marzo.", date(2026, 3, 15)),
    ("Estarei ausente até 10 de março.", date(2026, 3, 11)),
    ("Estou de férias até segunda-feira, 2 de março.", date(2026, 3, 3)),
    ("Ik ben afwezig tot en met 12 januari.", date(2027, 1, 13)),
    ("Ik ben vanaf maandag 2 maart weer aanwezig.", date(2026, 3, 2)),
    ("Sarò fuori ufficio fino al 9 gennaio.", date(2027, 1, 10)),
    ("Tornerò in ufficio il 9 marzo.", date(2026, 3, 9)),
    ("Sono in ferie dal 3 al 14 marzo.", date(2026, 3, 15)),
])
def test_return_dates_in_the_seven_languages(text: str, back: date) -> None:
    assert return_date(text, received=FRIDAY) == back


@pytest.mark.parametrize(("text", "back"), [
    ("I'm out until 03/12.", date(2026, 3, 13)),  # only month first is near
    ("Out until 14/03, back on 15/03.", date(2026, 3, 15)),  # day first is impossible
    ("Out from 3/10 through 3/14, back on Monday 3/17.", date(2026, 3, 17)),
    ("Back on Monday 03/02/2026.", date(2026, 3, 2)),  # only month first is a Monday
    ("Zurück am Montag, 02.03.2026.", date(2026, 3, 2)),
    ("Je suis absent jusqu'au 04/03.", date(2026, 3, 5)),  # day first, as in Europe
])
def test_numeric_dates_are_day_first_unless_the_context_says_otherwise(
        text: str, back: date) -> None:
    assert return_date(text, received=FRIDAY) == back


def test_a_date_just_before_arrival_is_a_stale_auto_reply_not_next_year() -> None:
    assert return_date("I am back on 18 February.", received=FRIDAY) == date(2026, 2, 18)
    assert return_date("Back on 10 January.", received=FRIDAY) == date(2027, 1, 10)


@pytest.mark.parametrize("text", [
    "Thanks for your email, I will reply soon.",
    "I am on leave until further notice. Please contact Maria on 3 March.",
    "Ich bin ab dem 3. März nicht im Büro.",
    "Back on 1 March 2029.",  # more than a year away: absurd
    "Returning 2025-01-05.",  # long past
    "Call me back at 10.45 please.",
])
def test_no_return_date_when_none_is_stated_or_it_is_absurd(text: str) -> None:
    assert return_date(text, received=FRIDAY) is None


def test_without_the_arrival_day_only_dates_with_a_year_are_read() -> None:
    assert return_date("Back on 9 March 2026.") == date(2026, 3, 9)
    assert return_date("Back on Monday.") is None
    assert return_date("Back on 9 March.") is None


def test_dates_in_the_quoted_history_are_not_return_dates() -> None:
    text = ("I am out of the office.\n\nOn Fri, Feb 20, 2026 at 9:02 AM Sam <sam@example.com> "
            "wrote:\n> Could we meet? I am back on 3 March.\n")
    assert return_date(text, received=FRIDAY) is None


def test_return_dates_are_read_in_bounded_time() -> None:
    hostile = ["until " * 50_000, "1/2/" * 50_000, "ab dem 5. Januar " * 20_000,
               "ich bin bis " * 30_000 + "nicht im Büro", "3-" * 80_000]
    started = time.perf_counter()
    for text in hostile:
        return_date(text, received=FRIDAY)
        looks_like_auto_reply(text[:1000], text)
    assert time.perf_counter() - started < 5


# -- the labelled corpus -------------------------------------------------------------
def corpus_rows(kind: str) -> list[dict[str, str]]:
    return [row for row in corpus_labels() if row["kind"] == kind]


def test_every_auto_reply_of_the_corpus_has_automatic_headers() -> None:
    rows = corpus_rows("auto_reply")
    assert rows
    missed = [row["file"] for row in rows if not auto_reply_headers(Mail(CORPUS / row["file"])
                                                                    .message)]
    assert missed == []


def test_no_human_reply_of_the_corpus_looks_automatic() -> None:
    mails = [Mail(CORPUS / row["file"]) for row in corpus_rows("reply")]
    assert mails
    flagged = [mail.subject for mail in mails
               if auto_reply_headers(mail.message) or looks_like_auto_reply(mail.subject,
                                                                            mail.text)]
    assert flagged == []
