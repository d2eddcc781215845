"""Prospects for simulations: a seeded synthetic spread over the world, or a CSV file."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable
from pathlib import Path

from sequencer.errors import InputError
from sequencer.simulate.model import SimProspect

# (IANA zone, ISO country, weight): where a typical B2B prospect list lives, with the
# awkward zones (half and quarter hours, southern DST, +13:45) represented.
WORLD: tuple[tuple[str, str, int], ...] = (
    ("America/New_York", "US", 18), ("America/Chicago", "US", 10),
    ("America/Denver", "US", 4), ("America/Los_Angeles", "US", 10),
    ("America/Phoenix", "US", 2), ("America/Toronto", "CA", 4),
    ("America/Sao_Paulo", "BR", 3), ("America/Mexico_City", "MX", 2),
    ("Europe/London", "GB", 9), ("Europe/Dublin", "IE", 2), ("Europe/Paris", "FR", 5),
    ("Europe/Berlin", "DE", 6), ("Europe/Madrid", "ES", 3), ("Europe/Amsterdam", "NL", 3),
    ("Europe/Stockholm", "SE", 2), ("Europe/Warsaw", "PL", 2), ("Asia/Dubai", "AE", 1),
    ("Asia/Kolkata", "IN", 4), ("Asia/Kathmandu", "NP", 1), ("Asia/Singapore", "SG", 2),
    ("Asia/Tokyo", "JP", 2), ("Australia/Sydney", "AU", 3), ("Australia/Adelaide", "AU", 1),
    ("Pacific/Auckland", "NZ", 1), ("Pacific/Chatham", "NZ", 1),
    ("Africa/Johannesburg", "ZA", 1),
)
FIRST_NAMES = ("Ada", "Ben", "Chloé", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jon",
               "Kai", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
             "Tyrell", "Soylent", "Cyberdyne", "Aperture")


def synthetic_prospects(count: int, seed: int) -> list[SimProspect]:
    """``count`` prospects spread over the zones of ``WORLD`` by weight, stable for a seed."""
    rng = random.Random(seed)
    zones = [(zone, country) for zone, country, _ in WORLD]
    weights = [w for _, _, w in WORLD]
    picks = rng.choices(zones, weights=weights, k=count)
    out = []
    for i, (zone, country) in enumerate(picks):
        first = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        company = COMPANIES[rng.randrange(len(COMPANIES))]
        out.append(SimProspect(f"p{i + 1:06d}", zone, country,
                               f"{first.lower()}.{i + 1}@{company.lower()}.example",
                               first, company))
    return out


def prospects_from_csv(
    path: Path, *, default_zone: str, zone_exists: Callable[[str], bool]
) -> list[SimProspect]:
    """Read prospects from a CSV with at least an ``email`` or ``id`` column.

    Optional columns: ``timezone``, ``country``, ``first_name``, ``company``.

    Raises:
        InputError: the file cannot be read, or a row is invalid (naming its line).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _read_rows(csv.DictReader(handle), path, default_zone, zone_exists)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file: {exc}") from exc


def _read_rows(rows: Iterable[dict[str, str]], path: Path, default_zone: str,
               zone_exists: Callable[[str], bool]) -> list[SimProspect]:
    out: list[SimProspect] = []
    problems: list[str] = []
    reader = rows if isinstance(rows, csv.DictReader) else None
    fields = set(reader.fieldnames or []) if reader is not None else set()
    if reader is not None and not fields & {"email", "id"}:
        raise InputError(f"{path}:1: the header needs an 'email' or 'id' column")
    for line, row in enumerate(rows, start=2):
        ident = (row.get("id") or row.get("email") or "").strip()
        zone = (row.get("timezone") or "").strip() or default_zone
        if not ident:
            problems.append(f"{path}:{line}: row has no id or email")
            continue
        if not zone_exists(zone):
            problems.append(f"{path}:{line}: unknown time zone {zone!r}")
            continue
        country = (row.get("country") or "").strip().upper() or None
        out.append(SimProspect(ident, zone, country, (row.get("email") or "").strip(),
                               (row.get("first_name") or "").strip(),
                               (row.get("company") or "").strip()))
    if problems:
        raise InputError("\n".join(problems))
    return out
