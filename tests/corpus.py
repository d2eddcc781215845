"""The labelled inbound corpus (``../shared/corpus/inbound`` beside the project).

Locally a missing corpus skips the tests that read it; under CI (the ``CI``
variable is set) it fails them, so they can never be skipped by accident.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "inbound"


def corpus_labels() -> list[dict[str, str]]:
    """Every row of ``labels.tsv``."""
    labels = CORPUS / "labels.tsv"
    if not labels.is_file():
        message = f"the labelled corpus is not at {CORPUS}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: under CI this is a failure, not a skip", pytrace=False)
        pytest.skip(message)
    with labels.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
