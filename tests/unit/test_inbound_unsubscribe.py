"""Unsubscribe requests written by people: honoured at once, so read conservatively.

A request suppresses the address in every sequence for good; a reply that only says
"not now" or mentions unsubscribing without asking for it must stay a reply.
"""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from sequencer.inbound.replytext import reply_text
from sequencer.inbound.unsubscribe import asks_to_unsubscribe

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inbound" / "unsubscribe"


def new_text(path: Path) -> str:
    """The new text of a fixture, as the classifier hands it over: quotes removed."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage), f"{path}: no text/plain part"
    return reply_text(str(body.get_content()))


REQUESTS = sorted(path.name for path in FIXTURES.glob("*.eml") if not path.name.startswith("miss"))
NEAR_MISSES = sorted(path.name for path in FIXTURES.glob("miss_*.eml"))


def test_the_fixtures_cover_the_seven_languages_and_the_near_misses() -> None:
    languages = {name.split("_")[0] for name in REQUESTS}
    assert languages == {"en", "fr", "de", "es", "pt", "nl", "it"}
    assert len(NEAR_MISSES) >= 5


@pytest.mark.parametrize("name", REQUESTS)
def test_a_reply_asking_to_be_removed_is_an_unsubscribe(name: str) -> None:
    assert asks_to_unsubscribe(new_text(FIXTURES / name))


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_a_reply_that_does_not_ask_to_be_removed_is_not_an_unsubscribe(name: str) -> None:
    assert not asks_to_unsubscribe(new_text(FIXTURES / name))


@pytest.mark.parametrize("text", [
    "Unsubscribe", "UNSUBSCRIBE!", "unsubscribe me please", "Please remove me from your list.",
    "Please take me off your list", "Take me off this list.", "Stop emailing me.",
    "Don't contact me again.", "Do not email me.", "I'd like to opt out.", "Opt me out.",
    "Not interested. Remove me.", "No more emails please.", "Leave me alone.", "STOP",
    "I already unsubscribed, why am I still getting these?", "No, please remove me.",
    "Under GDPR, please delete my data.",
    "Merci de me désabonner.", "Je ne souhaite plus recevoir vos emails.",
    "Retirez-moi de votre liste svp", "Ne me contactez plus.", "Désinscrivez-moi.",
    "Bitte melden Sie mich von Ihrem Newsletter ab.", "Bitte austragen.",
    "Ich möchte keine weiteren E-Mails erhalten.", "Keine E-Mails mehr bitte.", "Abmelden",
    "Por favor, darme de baja.", "No me escriba más.", "Dejen de enviarme correos.",
    "Quiero darme de baja de esta lista.",
    "Por favor descadastrar meu email.", "Favor remover da lista.",
    "Não quero mais receber esses emails.", "Parem de me enviar mensagens.",
    "Graag uitschrijven.", "Kunt u mij afmelden?", "Verwijder mij uit uw bestand.",
    "Geen e-mails meer a.u.b.",
    "Cancellami dalla vostra lista.", "Vorrei disiscrivermi.",
    "Non voglio più ricevere queste email.", "Smettete di scrivermi.",
])
def test_requests_in_the_seven_languages(text: str) -> None:
    assert asks_to_unsubscribe(text)


@pytest.mark.parametrize("text", [
    "Not interested right now, try me next quarter.",
    "Not interested",
    "Please don't unsubscribe me, I still want the updates.",
    "I didn't unsubscribe, why did the emails stop?",
    "I never unsubscribed.",
    "Why was I unsubscribed?",
    "Unsubscribe here",
    "Thanks for the note, let's talk Monday.\n\nUnsubscribe<https://x.example/u/1>",
    "To unsubscribe, click here: https://x.example/u/1",
    "If you no longer wish to receive these emails, unsubscribe here.",
    "Don't email me until March, we are busy with a launch.",
    "Sure. Take me through the demo on Tuesday.",
    "Please remove me from the thread and loop in Jane, she owns this.",
    "Can you send more info? The unsubscribe link in your footer looks broken.",
    "Ne me désabonnez pas.",
    "Si vous ne souhaitez plus recevoir nos emails, cliquez ici.",
    "Bitte nicht abmelden.", "Bitte melden Sie mich nicht ab.",
    "No me den de baja, gracias.",
    "Não me descadastre, por favor.",
    "Niet afmelden graag.",
    "Non cancellatemi, grazie.",
])
def test_mentions_negations_footers_and_later_are_not_requests(text: str) -> None:
    assert not asks_to_unsubscribe(text)


def test_a_request_below_a_long_reply_is_still_read() -> None:
    text = "Thanks for reaching out.\n\n" + "We reviewed the proposal carefully. " * 20 + (
        "\n\nAll the same, please remove me from your mailing list.")
    assert asks_to_unsubscribe(text)


def test_requests_are_read_in_bounded_time() -> None:
    hostile = ["melden sie mich " * 20_000, "do not contact " * 20_000, "1/2/" * 50_000,
               "unsubscribe " * 50_000, ("a" * 100 + " ") * 3_000]
    started = time.perf_counter()
    for text in hostile:
        asks_to_unsubscribe(text)
    assert time.perf_counter() - started < 5
