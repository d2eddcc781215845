"""How well the inbound classifier reads the labelled corpus.

Usage::

    .venv/bin/python bench/inbound_accuracy.py [--corpus DIR] [--mistakes N] [--json OUT]

Reads ``DIR/labels.tsv`` (default ``../shared/corpus/inbound`` beside the project
root), classifies every message with :func:`sequencer.inbound.classify.classify`, and
prints: accuracy per label and overall, the confusion matrix, the mistakes (file,
expected, got, status, the first words of the diagnostic), how many messages that
must not be suppressed were called ``hard_bounce`` (the goal is 0), agreement on the
status code and on the matched Message-IDs where the label has them, and the speed.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sequencer.inbound.classify import classify  # noqa: E402
from sequencer.inbound.model import Classification, Kind  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "inbound"
KINDS = [kind.value for kind in Kind]
GOAL_OVERALL, GOAL_PER_LABEL = 0.97, 0.95


@dataclass(frozen=True)
class Outcome:
    row: dict[str, str]
    got: Classification

    @property
    def expected(self) -> str:
        return self.row["kind"]

    @property
    def right(self) -> bool:
        return self.got.kind.value == self.expected


def run(corpus: Path) -> tuple[list[Outcome], float]:
    with (corpus / "labels.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    raws = [(corpus / row["file"]).read_bytes() for row in rows]
    started = time.perf_counter()
    results = [classify(raw) for raw in raws]
    elapsed = time.perf_counter() - started
    return [Outcome(row, got) for row, got in zip(rows, results, strict=True)], elapsed


def per_label(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    totals: Counter[str] = Counter(o.expected for o in outcomes)
    right: Counter[str] = Counter(o.expected for o in outcomes if o.right)
    return {label: (right[label], totals[label]) for label in KINDS if totals[label]}


def print_report(outcomes: list[Outcome], elapsed: float, *, mistakes: int) -> bool:
    right = sum(o.right for o in outcomes)
    overall = right / len(outcomes)
    labels = per_label(outcomes)
    print(f"overall: {right}/{len(outcomes)} = {overall:.1%} (goal {GOAL_OVERALL:.0%})")
    print("\nper label:")
    for label, (ok, total) in labels.items():
        print(f"  {label:<12} {ok:>4}/{total:<4} {ok / total:7.1%}")
    print_confusion(outcomes)
    wrong = [o for o in outcomes if not o.right]
    print(f"\nmistakes ({len(wrong)}):")
    for o in wrong[:mistakes]:
        words = " ".join((o.got.diagnostic or "").split()[:12])
        print(f"  {o.row['file']}: expected {o.expected} ({o.row['reason'] or '-'}), got "
              f"{o.got.kind.value} ({o.got.reason or '-'}), status {o.got.status or '-'}: {words}")
    live_suppressed = [o for o in outcomes
                       if o.row["suppress"] == "no" and o.got.kind is Kind.HARD_BOUNCE]
    print(f"\nsuppress=no called hard_bounce: {len(live_suppressed)} (must be 0)")
    for o in live_suppressed:
        print(f"  {o.row['file']} ({o.expected}/{o.row['reason']})")
    print_agreement(outcomes)
    print(f"\nspeed: {len(outcomes) / elapsed:,.0f} messages/s "
          f"({len(outcomes)} in {elapsed:.2f} s, one thread)")
    reached = overall >= GOAL_OVERALL and not live_suppressed and all(
        ok / total >= GOAL_PER_LABEL or total - ok <= 1 for ok, total in labels.values())
    print(f"\ngoal {'reached' if reached else 'NOT reached'}")
    return reached


def print_confusion(outcomes: list[Outcome]) -> None:
    pairs = Counter((o.expected, o.got.kind.value) for o in outcomes)
    short = {kind: kind.replace("_bounce", "").replace("unsubscribe", "unsub")[:7]
             for kind in KINDS}
    print("\nconfusion (rows: expected, columns: got):")
    print(" " * 13 + " ".join(f"{short[k]:>7}" for k in KINDS))
    for expected in KINDS:
        if any(pairs[(expected, got)] for got in KINDS):
            cells = " ".join(f"{pairs[(expected, got)] or '.':>7}" for got in KINDS)
            print(f"  {expected:<11}{cells}")


def print_agreement(outcomes: list[Outcome]) -> None:
    def ratio(pairs: list[tuple[str, bool]]) -> str:
        agree = sum(ok for _, ok in pairs)
        return f"{agree}/{len(pairs)}" + (f" = {agree / len(pairs):.1%}" if pairs else "")

    # Codes like 5.0.911 are the labelling tool's own, not RFC 3463: no server says them.
    statuses = [(o.row["status"], o.got.status == o.row["status"]) for o in outcomes
                if o.row["status"] and int(o.row["status"].split(".")[2]) < 900]
    reasons = [(o.row["reason"], o.got.reason == o.row["reason"]) for o in outcomes
               if o.row["reason"] and o.expected.endswith(("bounce", "blocked"))]
    replies = [(o.row["in_reply_to"], o.got.in_reply_to == o.row["in_reply_to"])
               for o in outcomes if o.row["in_reply_to"]]
    embedded = [(o.row["embedded_message_id"], o.row["embedded_message_id"] in o.got.message_ids)
                for o in outcomes if o.row["embedded_message_id"]]
    print("\nagreement where the label has a value:")
    print(f"  status code (RFC 3463 codes only): {ratio(statuses)}")
    print(f"  reason (bounces):                  {ratio(reasons)}")
    print(f"  in_reply_to:                       {ratio(replies)}")
    print(f"  embedded_message_id found:         {ratio(embedded)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder with labels.tsv (default {DEFAULT_CORPUS})")
    parser.add_argument("--mistakes", type=int, default=200, help="mistakes to list")
    parser.add_argument("--json", type=Path, help="also write every verdict to this file")
    args = parser.parse_args()
    if not (args.corpus / "labels.tsv").is_file():
        print(f"no labels.tsv in {args.corpus}", file=sys.stderr)
        return 2
    outcomes, elapsed = run(args.corpus)
    reached = print_report(outcomes, elapsed, mistakes=args.mistakes)
    if args.json:
        args.json.write_text(json.dumps([
            {"file": o.row["file"], "expected": o.expected, "got": o.got.kind.value,
             "reason": o.got.reason, "status": o.got.status} for o in outcomes], indent=1))
    return 0 if reached else 1


if __name__ == "__main__":
    sys.exit(main())
