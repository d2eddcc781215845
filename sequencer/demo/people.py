"""The demo's sample prospects: people at many small companies around the world.

Zones and countries follow the simulator's ``WORLD`` weights. Companies are many
and small (two or three people each) so that ``account_reply`` exits stay a local
effect, as in a real list. Each prospect goes to one example sequence (they say
``one_active_sequence``), with the custom fields that sequence's templates use.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from sequencer.simulate.prospects import WORLD

# Which share of the prospects each example sequence gets, by file stem.
SEQUENCE_SHARES: tuple[tuple[str, int], ...] = (
    ("cold-outbound", 55), ("inbound-fast-follow-up", 20), ("re-engagement", 17),
    ("nurture-two-year", 8),  # its first touch is a quarter away: these wait, visibly
)
LANGUAGE_OF_COUNTRY = {"ES": "es", "MX": "es", "FR": "fr", "DE": "de", "BR": "pt", "NL": "nl"}
FIRST_NAMES = {
    "es": ("Lucía", "Mateo", "Sofía", "Diego", "Carmen", "Javier"),
    "fr": ("Camille", "Louis", "Chloé", "Hugo", "Manon", "Théo"),
    "de": ("Lena", "Jonas", "Mia", "Lukas", "Greta", "Felix"),
    "pt": ("Ana", "João", "Beatriz", "Rafael", "Larissa", "Tiago"),
    "nl": ("Sanne", "Daan", "Fleur", "Bram", "Noor", "Jesse"),
    "en": ("Ada", "Ben", "Dev", "Elif", "Femi", "Hiro", "Kai", "Nia", "Omar", "Priya",
           "Quinn", "Rosa", "Sven", "Tariq", "Grace", "Liam"),
}
LAST_NAMES = ("Garcia", "Martin", "Schmidt", "Silva", "de Vries", "Smith", "Okafor", "Tanaka",
              "Kumar", "Novak", "Rossi", "Nguyen", "Cohen", "Larsen", "Dubois", "Müller")
TITLES = ("VP Sales", "Head of Growth", "Sales Director", "RevOps Manager", "CRO",
          "SDR Team Lead", "Head of Marketing", "Founder")
INDUSTRIES = ("software", "logistics", "fintech", "healthcare", "manufacturing", "retail")
COMPANY_WORDS = ("North", "Blue", "Bright", "Stone", "Silver", "Iron", "Maple", "Cedar",
                 "Harbor", "Summit", "Pixel", "Quartz", "Orbit", "Lumen", "Delta", "Vertex")
COMPANY_KINDS = ("Labs", "Logistics", "Analytics", "Health", "Systems", "Works", "Cloud",
                 "Robotics")
PAIN_POINTS = ("reply rates", "booking meetings", "ramping new reps", "pipeline coverage")
TOOLS = ("spreadsheets", "Outreach", "Salesloft", "HubSpot sequences", "Apollo")
NOT_YET = ("budget frozen until next year", "team too small", "a tool contract until Q3")
TOPICS = ("the pilot proposal", "your Q3 pipeline review", "the pricing question")
COLUMNS = ("email", "first_name", "last_name", "title", "company", "phone", "country",
           "timezone", "industry", "pain_point", "demo_interest", "team_size",
           "not_yet_reason", "current_tool", "last_topic", "last_contact")


@dataclass(frozen=True, slots=True)
class DemoProspect:
    email: str
    first_name: str
    last_name: str
    company: str
    timezone: str
    country: str
    sequence: str  # the file stem of the example sequence it is enrolled in

    @property
    def language(self) -> str:
        return LANGUAGE_OF_COUNTRY.get(self.country, "en")


def demo_prospects(count: int, seed: int) -> list[DemoProspect]:
    """``count`` prospects spread by ``WORLD``'s weights, the same for the same seed."""
    rng = random.Random(f"demo-people:{seed}")
    places = [(zone, country) for zone, country, _ in WORLD]
    weights = [weight for _, _, weight in WORLD]
    sequences = [name for name, _ in SEQUENCE_SHARES]
    shares = [share for _, share in SEQUENCE_SHARES]
    companies = _companies(max(count // 2, 1), rng)
    out = []
    for number in range(1, count + 1):
        zone, country = rng.choices(places, weights=weights)[0]
        language = LANGUAGE_OF_COUNTRY.get(country, "en")
        first = rng.choice(FIRST_NAMES[language])
        company = rng.choice(companies)
        domain = company.lower().replace(" ", "-") + ".example"
        out.append(DemoProspect(f"{_ascii(first.lower())}.{number}@{domain}", first,
                                rng.choice(LAST_NAMES), company, zone, country,
                                rng.choices(sequences, weights=shares)[0]))
    return out


def write_csv(people: list[DemoProspect], path: Path, seed: int) -> Path:
    """One enrollment CSV with the columns the example templates use."""
    rng = random.Random(f"demo-fields:{seed}:{path.name}")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for person in people:
            writer.writerow((
                person.email, person.first_name, person.last_name, rng.choice(TITLES),
                person.company, f"+1 555 01{rng.randrange(100):02d}", person.country,
                person.timezone, rng.choice(INDUSTRIES), rng.choice(PAIN_POINTS),
                "sequences for a team of SDRs", str(rng.choice((4, 8, 15, 40))),
                rng.choice(NOT_YET), rng.choice(TOOLS), rng.choice(TOPICS), "last spring"))
    return path


def _ascii(text: str) -> str:
    """``chloé`` -> ``chloe``: most mail servers refuse non-ASCII local parts (no SMTPUTF8)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _companies(count: int, rng: random.Random) -> list[str]:
    names = sorted({f"{a}{b.lower()} {kind}" for a in COMPANY_WORDS for b in COMPANY_WORDS
                    if a != b for kind in COMPANY_KINDS})
    rng.shuffle(names)
    return names[:count]
