"""A/B/n variants: a deterministic, weighted, sticky choice per enrollment."""

from __future__ import annotations

from collections import Counter

from sequencer.engine import advance, events
from sequencer.engine.actions import SendEmail
from tests.unit.engine_helpers import definition, enroll, local, only

AB = definition("""
    name: ab
    schedule:
      windows: {daily: ["00:00-24:00"]}
      holidays: none
    steps:
      - id: intro
        type: email
        subject: Hello
        variants:
          - {id: a, template: a.j2, weight: 70}
          - {id: b, template: b.j2, weight: 30}
          - {id: c, template: c.j2, weight: 0}
""")

NOW = local("2027-04-06", "09:00")


def variant_for(seed: int) -> SendEmail:
    state = enroll(AB, NOW, seed=seed, timezone="UTC").state
    send = only(advance(AB, state, events.Due(), now=NOW), SendEmail)
    return send


def test_variant_assignment_is_deterministic_for_a_seed() -> None:
    first = [variant_for(seed).variant for seed in range(50)]
    second = [variant_for(seed).variant for seed in range(50)]

    assert first == second
    assert len(set(first)) > 1  # the seed matters


def test_the_chosen_variant_carries_its_own_template_and_is_remembered() -> None:
    state = enroll(AB, NOW, seed=3, timezone="UTC").state

    decision = advance(AB, state, events.Due(), now=NOW)

    send = only(decision, SendEmail)
    assert send.template == f"{send.variant}.j2"
    assert decision.state.variants == {"intro": send.variant}


def test_variants_are_chosen_in_proportion_to_their_weights() -> None:
    counts = Counter(variant_for(seed).variant for seed in range(5000))

    assert abs(counts["a"] / 5000 - 0.70) < 0.03, counts
    assert abs(counts["b"] / 5000 - 0.30) < 0.03, counts


def test_a_variant_with_weight_zero_is_never_chosen() -> None:
    counts = Counter(variant_for(seed).variant for seed in range(5000))

    assert counts["c"] == 0, counts
