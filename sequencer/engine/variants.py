"""Deterministic weighted choice of an A/B/n variant."""

from __future__ import annotations

import zlib
from functools import lru_cache

from sequencer.definition.model import Step, Variant
from sequencer.timing.sendtime import mix


@lru_cache(maxsize=4096)
def step_key(step_id: str) -> int:
    """A stable number for a step id, to seed its jitter and variant choice."""
    return zlib.crc32(step_id.encode())


def pick_variant(step: Step, seed: int) -> Variant:
    """The variant of ``step`` for an enrollment, by weight, stable for a given seed."""
    variants = step.variants
    if len(variants) == 1:
        return variants[0]
    total = sum(v.weight for v in variants)
    point = mix(seed, step_key(step.id), 0xA11CE) % total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    raise AssertionError("weights changed under us")  # pragma: no cover
