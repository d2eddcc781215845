"""The new text of a reply: what the rep reads, and what the unsubscribe check reads.

Quoted history (in the seven languages the engine reads), forwarded and original
messages, and signatures are removed; the person's own words, wherever they stand
between the quotes, are kept.
"""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from sequencer.inbound.replytext import reply_text, strip_quoted
from sequencer.inbound.signature import strip_signature
from tests.corpus import CORPUS, corpus_labels

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inbound"

QUOTE = "> Hi, would you be open to a short call next week?\n>\n> Sam\n"
ANSWER = "Yes, Tuesday works."


def plain_body(path: Path) -> str:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage), f"{path}: no text/plain part"
    return str(body.get_content())


# -- quoted history ------------------------------------------------------------------
@pytest.mark.parametrize("attribution", [
    "On Mon, Mar 3, 2025 at 9:02 AM Sam Sender <sam@outreach-sender.example> wrote:",
    "On 3 Mar 2025, at 09:02, Sam Sender <sam@outreach-sender.example> wrote:",
    "Le lun. 3 mars 2025 à 09:02, Sam Sender <sam@outreach-sender.example> a écrit :",
    "Le 03/03/2025 à 09:02, Sam Sender a écrit :",
    "Am Mo., 3. März 2025 um 09:02 Uhr schrieb Sam Sender <sam@outreach-sender.example>:",
    "Am 03.03.2025 um 09:02 schrieb Sam Sender:",
    "Sam Sender <sam@outreach-sender.example> schrieb am Mo., 3. März 2025, 09:02:",
    "El lun, 3 mar 2025 a las 9:02, Sam Sender (<sam@outreach-sender.example>) escribió:",
    "Em seg., 3 de mar. de 2025 às 09:02, Sam Sender <sam@outreach-sender.example> escreveu:",
    "Op ma 3 mrt 2025 om 09:02 schreef Sam Sender <sam@outreach-sender.example>:",
    "Op 3 mrt. 2025, om 09:02 heeft Sam Sender <sam@outreach.example> het volgende geschreven:",
    "Il giorno lun 3 mar 2025 alle ore 09:02 Sam Sender <sam@outreach-sender.example> ha "
    "scritto:",
    "Il 03/03/2025 09:02, Sam Sender ha scritto:",
])
def test_the_quote_and_its_attribution_line_are_removed_in_every_language(
        attribution: str) -> None:
    assert reply_text(f"{ANSWER}\n\n{attribution}\n\n{QUOTE}") == ANSWER


@pytest.mark.parametrize("attribution", [
    "On Mon, Mar 3, 2025 at 9:02 AM Sam Sender <sam@outreach-sender.example>\nwrote:",
    "On Mon, Mar 3, 2025 at 9:02 AM, Sam Sender\n<sam@outreach-sender.example>\nwrote:",
    "Le lun. 3 mars 2025 à 09:02, Sam Sender <sam@outreach-sender.example> a\nécrit :",
])
def test_an_attribution_wrapped_over_several_lines_is_removed_whole(attribution: str) -> None:
    assert reply_text(f"{ANSWER}\n\n{attribution}\n\n{QUOTE}") == ANSWER


@pytest.mark.parametrize("attribution", [
    "On Mon, Mar 3, 2025 at 9:02 AM Sam Sender <sam@outreach-sender.example> wrote:",
    "Am 03.03.2025 um 09:02 schrieb Sam Sender:",
    "El 3/3/2025 a las 9:02, Sam Sender escribió:",
])
def test_unquoted_history_after_an_attribution_is_cut(attribution: str) -> None:
    history = "Hi, would you be open to a short call next week?\nSam\n"
    assert reply_text(f"{ANSWER}\n\n{attribution}\n{history}") == ANSWER


def test_an_attribution_in_an_unknown_language_goes_when_a_quote_follows() -> None:
    text = ("Hello\n02.04.2012 14:20 пользователь \"bob@example.com\" <\nbob@example.com> "
            "написал:\n\n> Hi\n")
    assert reply_text(text) == "Hello"
    generic = f"{ANSWER}\n\n2025-03-03 9:02 GMT+01:00 Sam <sam@outreach-sender.example>:\n{QUOTE}"
    assert reply_text(generic) == ANSWER


def test_a_line_ending_in_a_colon_is_body_when_no_quote_follows() -> None:
    text = "Call me at 10:30 tomorrow, here is the agenda:\n\n1. pricing\n2. rollout"
    assert reply_text(text) == text


def test_one_is_not_an_on_line() -> None:
    text = "One outstanding question I had:\n\nOn 2 Oct 2012, at 11:55, Dave wrote:\n> Hi"
    assert reply_text(text) == "One outstanding question I had:"


def test_answers_written_between_the_quotes_are_kept() -> None:
    text = (
        "On Tue, Apr 29, 2014 at 4:22 PM, Tim <tim@example.com> wrote:\n\n"
        "> Are you free on Tuesday?\n>\n\nYes, after 2pm.\n\n> And is the budget approved?\n\n"
        "Not yet, next month.\n\n> Thanks, Tim\n"
    )
    assert reply_text(text) == "Yes, after 2pm.\n\nNot yet, next month."


def test_a_reply_written_below_the_quote_is_kept() -> None:
    assert reply_text("On 04/02/2012 06:26 PM, Megan wrote:\n> Hi\nHello") == "Hello"


@pytest.mark.parametrize("block", [
    "From: Sam Sender <sam@outreach-sender.example>\nSent: Monday, March 3, 2025 9:02 AM\n"
    "To: Dana Brooks <dbrooks@example.com>\nSubject: Quick question",
    "*From:* Sam Sender [mailto:sam@outreach-sender.example]\n*Sent:* Monday, March 3, 2025\n"
    "*To:* dbrooks@example.com\n*Subject:* Quick question",
    "De : Sam Sender <sam@outreach-sender.example>\nEnvoyé : lundi 3 mars 2025 09:02\n"
    "À : Claire Martin <claire@example.fr>\nObjet : Quick question",
    "Von: Sam Sender <sam@outreach-sender.example>\nGesendet: Montag, 3. März 2025 09:02\n"
    "An: Jonas Weber <j.weber@example.de>\nBetreff: Kurze Frage",
    "De: Sam Sender <sam@outreach-sender.example>\nEnviado el: lunes, 3 de marzo de 2025 9:02\n"
    "Para: Lucía García <lucia@example.es>\nAsunto: Pregunta rápida",
    "De: Sam Sender <sam@outreach-sender.example>\nEnviada em: segunda-feira, 3 de março de "
    "2025 09:02\nPara: Rafael <rafael@example.com.br>\nAssunto: Pergunta rápida",
    "Van: Sam Sender <sam@outreach-sender.example>\nVerzonden: maandag 3 maart 2025 09:02\n"
    "Aan: Femke de Jong <f@example.nl>\nOnderwerp: Korte vraag",
    "Da: Sam Sender <sam@outreach-sender.example>\nInviato: lunedì 3 marzo 2025 09:02\n"
    "A: Giulia Rossi <giulia@example.it>\nOggetto: Domanda veloce",
    "________________________________\nFrom: Sam Sender <sam@outreach-sender.example>\n"
    "Sent: Monday, March 3, 2025 9:02 AM\nTo: Dana Brooks <dbrooks@example.com>\n"
    "Subject: Quick question",
])
def test_an_outlook_header_block_ends_the_new_text_in_every_language(block: str) -> None:
    history = "\n\nHi, would you be open to a short call?\n\nSam\n"
    assert reply_text(f"{ANSWER}\n\n{block}{history}") == ANSWER


@pytest.mark.parametrize("banner", [
    "-----Original Message-----", "----- Original Message -----",
    "-------- Message d'origine --------", "-----Ursprüngliche Nachricht-----",
    "-----Mensaje original-----", "-----Mensagem original-----",
    "-----Oorspronkelijk bericht-----", "-----Messaggio originale-----",
    "---------- Forwarded message ---------", "Begin forwarded message:",
])
def test_an_original_message_banner_ends_the_new_text(banner: str) -> None:
    assert reply_text(f"{ANSWER}\n\n{banner}\nFrom: Sam\nHi there\n") == ANSWER


def test_a_from_line_in_the_body_is_not_a_header_block() -> None:
    text = "From: the team at Northwind\nTo sum up, we are interested.\n\nAna"
    assert strip_quoted(text) == text


# -- signatures ----------------------------------------------------------------------
def test_the_signature_after_a_dash_dash_delimiter_is_removed() -> None:
    text = "this is an email with a correct -- signature.\n\n-- \nrick"
    assert reply_text(text) == "this is an email with a correct -- signature."


@pytest.mark.parametrize("line", [
    "Sent from my iPhone", "Sent from my Verizon Wireless BlackBerry", "Get Outlook for iOS",
    "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "Enviado desde mi iPhone",
    "Enviado do meu iPhone", "Verzonden vanaf mijn iPhone", "Inviato da iPhone",
    "Sent with Sparrow (http://www.sparrowmailapp.com/?sig)",
])
def test_a_mobile_clients_signature_line_is_removed(line: str) -> None:
    assert reply_text(f"Here is another email\n\n{line}\n") == "Here is another email"


def test_a_sentence_that_starts_like_a_mobile_signature_is_kept() -> None:
    text = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert reply_text(text) == text


@pytest.mark.parametrize("signoff", [
    "Best,", "Thanks!", "Cordialement,", "Mit freundlichen Grüßen", "Un saludo,",
    "Atenciosamente,", "Met vriendelijke groet,", "Cordiali saluti",
])
def test_the_business_card_after_a_sign_off_is_removed_and_the_sign_off_kept(
        signoff: str) -> None:
    card = "Jane Doe\nVP Sales | Northwind\n+1 (415) 555-0134\nwww.northwind.example"
    text = f"Sounds good, talk on Tuesday.\n\n{signoff}\n{card}\n"
    assert reply_text(text) == f"Sounds good, talk on Tuesday.\n\n{signoff}"


def test_a_sign_off_followed_by_sentences_keeps_everything() -> None:
    text = ("Thanks!\nI will send you the contract tomorrow, and I will copy legal on it "
            "so they can review the terms before we sign.\nJane")
    assert strip_signature(text) == text


def test_a_postscript_after_the_sign_off_is_kept() -> None:
    text = "Sounds good.\n\nBest,\nJane\nPS: I'm out next week"
    assert reply_text(text) == text


def test_a_dash_dash_inside_a_line_is_not_a_signature() -> None:
    text = "Stuff happened.\n\nAnd here is a fix -- this is not a signature.\n\nkthxbai"
    assert reply_text(text) == text


# -- real messages -------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    ("gmail_en_holiday.eml", "Hi Sam,\n\nSorry for the slow reply, I was on holiday until "
     "yesterday. Yes, let's talk — does Thursday at 3pm work for you?\n\nBest,"),
    ("outlook_fr_conges.eml", "Bonjour Sam,\n\nJe rentre de congés, désolée pour le retard. "
     "Avec plaisir pour un échange la semaine prochaine : mardi ou mercredi matin ?\n\n"
     "Cordialement,"),
    ("thunderbird_de_urlaub.eml", "Hallo Herr Sender,\n\nich bin ab morgen im Urlaub, aber "
     "das klingt interessant. Können wir nach \nmeiner Rückkehr am 18. August telefonieren?"
     "\n\nViele Grüße"),
    ("iphone_pt_ferias.eml", "Oi Sam, voltei das férias ontem. Tenho interesse sim, podemos "
     "marcar para sexta?"),
    ("outlook_nl_vakantie.eml", "Hoi Sam,\n\nSorry voor de late reactie, ik was op vakantie. "
     "Kunnen we volgende week even bellen?\n\nGroeten,"),
    ("gmail_it_ferie.eml", "Ciao Sam,\n\nscusa il ritardo, ero in ferie. Mi interessa, "
     "possiamo sentirci giovedì?\n\nGrazie,"),
])
def test_the_new_text_of_real_replies(name: str, expected: str) -> None:
    assert reply_text(plain_body(FIXTURES / "human" / name)) == expected


def test_hostile_input_is_read_in_bounded_time() -> None:
    hostile = [
        "On " * 40_000 + "wrote:\n> x\n",
        ("From: a\n" * 20_000) + "Sent: b\nTo: c\nSubject: d\n",
        "x:\n" * 50_000,
        ("> " * 5_000 + "\n") * 20,
        "Thanks,\n" * 30_000,
    ]
    started = time.perf_counter()
    for text in hostile:
        reply_text(text)
    assert time.perf_counter() - started < 5, "reply_text must stay linear in its input"


# -- the labelled corpus -------------------------------------------------------------
# Of the 12 reference texts (Mailgun talon's fixtures), two keep a signature that this
# extractor removes ("Sent from my iPhone", a Sparrow "-- " block): talon's references
# strip quotes only. Without the signature step every one matches.
REPLY_TEXT_EXACT_SHARE = 10 / 12
QUOTES_ONLY_EXACT_SHARE = 12 / 12


def corpus_references() -> list[tuple[str, str, str]]:
    """(file, plain body, expected text) for every labelled reply with a reference."""
    rows = [row for row in corpus_labels() if row["expected_text"]]
    return [(row["file"], plain_body(CORPUS / row["file"]),
             (CORPUS / row["expected_text"]).read_text(encoding="utf-8")) for row in rows]


def test_reply_text_matches_most_reference_texts_of_the_corpus() -> None:
    references = corpus_references()
    assert references, "labels.tsv names no expected_text"
    exact = [name for name, body, expected in references
             if reply_text(body) == expected.strip()]
    near = [name for name, body, expected in references
            if reply_text(body).split() == expected.split()]
    quotes_only = [name for name, body, expected in references
                   if strip_quoted(body).strip() == expected.strip()]
    assert len(exact) / len(references) >= REPLY_TEXT_EXACT_SHARE, exact
    assert len(near) >= len(exact)
    assert len(quotes_only) / len(references) >= QUOTES_ONLY_EXACT_SHARE, quotes_only
