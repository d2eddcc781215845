"""Threading: follow-ups reply in the conversation of an earlier email."""

from __future__ import annotations

from sequencer.engine import events
from sequencer.engine.actions import SendEmail
from tests.unit.engine_helpers import Driver, definition, local, only

THREE_IN_A_THREAD = definition("""
    name: threaded
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00"]}
      holidays: none
    steps:
      - {id: intro, type: email, template: intro.j2, subject: "{{ prospect.company }} and outbound"}
      - {id: bump, type: email, wait: 2 days, thread: intro, template: bump.j2}
      - {id: breakup, type: email, wait: 2 days, thread: intro, template: breakup.j2}
""")

MONDAY_9 = local("2027-04-05", "09:00")


def send(driver: Driver, message_id: str, rendered_subject: str) -> SendEmail:
    """Hand out the due email, then report it sent with its rendered subject."""
    action = only(driver.due(), SendEmail)
    driver.fire(events.EmailSent(action.step, message_id, rendered_subject))
    return action


def test_a_threaded_follow_up_replies_to_the_first_message_under_re_of_its_rendered_subject(
) -> None:
    driver = Driver(THREE_IN_A_THREAD, MONDAY_9)
    send(driver, "<m1@acme.test>", "Acme and outbound")

    bump = only(driver.due(), SendEmail)

    assert bump.step == "bump"
    assert bump.subject == "Re: Acme and outbound"
    assert bump.in_reply_to == "<m1@acme.test>"
    assert bump.references == ("<m1@acme.test>",)


def test_a_third_threaded_step_references_both_earlier_messages() -> None:
    driver = Driver(THREE_IN_A_THREAD, MONDAY_9)
    send(driver, "<m1@acme.test>", "Acme and outbound")
    send(driver, "<m2@acme.test>", "Re: Acme and outbound")

    breakup = only(driver.due(), SendEmail)

    assert breakup.subject == "Re: Acme and outbound"  # never "Re: Re: ..."
    assert breakup.in_reply_to == "<m2@acme.test>"
    assert breakup.references == ("<m1@acme.test>", "<m2@acme.test>")


CHAINED = definition("""
    name: chained
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00"]}
      holidays: none
    steps:
      - {id: intro, type: email, template: intro.j2, subject: "{{ prospect.company }} and outbound"}
      - {id: bump, type: email, wait: 2 days, thread: intro, template: bump.j2}
      - {id: breakup, type: email, wait: 2 days, thread: bump, template: breakup.j2}
""")


def test_a_step_threaded_on_a_follow_up_replies_in_the_same_conversation() -> None:
    driver = Driver(CHAINED, MONDAY_9)
    send(driver, "<m1@acme.test>", "Acme and outbound")
    send(driver, "<m2@acme.test>", "Re: Acme and outbound")

    breakup = only(driver.due(), SendEmail)

    assert breakup.subject == "Re: Acme and outbound"
    assert breakup.in_reply_to == "<m2@acme.test>"
    assert breakup.references == ("<m1@acme.test>", "<m2@acme.test>")


PARENT_BEHIND_A_BRANCH = definition("""
    name: behind-a-branch
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00"]}
      holidays: none
    steps:
      - {id: opener, type: email, template: opener.j2, subject: Opener}
      - {id: route, type: branch, wait: 2 days, if: "opened(opener)", goto: case-study,
         else: follow-up}
      - {id: case-study, type: email, template: case.j2, subject: A case study}
      - {id: follow-up, type: email, wait: 1 day, thread: case-study, template: f.j2,
         subject: Quick follow-up}
""")


def test_a_follow_up_whose_parent_was_skipped_by_a_branch_starts_a_new_thread_with_its_subject(
) -> None:
    driver = Driver(PARENT_BEHIND_A_BRANCH, MONDAY_9)
    send(driver, "<m1@acme.test>", "Opener")
    driver.due()  # the branch: opener was not opened, so case-study is skipped
    assert driver.state.step == "follow-up"

    follow_up = only(driver.due(), SendEmail)

    assert follow_up.subject == "Quick follow-up"
    assert follow_up.in_reply_to is None
    assert follow_up.references == ()
