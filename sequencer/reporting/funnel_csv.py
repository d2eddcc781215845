"""The funnel as CSV: long format, one row per figure, for spreadsheets and the API."""

from __future__ import annotations

import csv
import io
from typing import Any

CSV_COLUMNS = ("section", "group", "name", "numerator", "denominator", "rate", "ci95_low",
               "ci95_high", "too_small", "count", "value", "currency", "median_days", "stays",
               "current")


def to_csv(data: dict[str, Any]) -> str:
    """The funnel as long-format CSV: one row per group and rate, funnel step, pipeline
    figure (one value row per currency) and stage, the total's rows under ``all``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for group in [*data["groups"], data["total"]]:
        name = group["group"]
        for key, rate in group["rates"].items():
            low, high = rate["ci95"]
            writer.writerow({"section": "rate", "group": name, "name": key,
                             "numerator": rate["numerator"], "denominator": rate["denominator"],
                             "rate": rate["rate"], "ci95_low": low, "ci95_high": high,
                             "too_small": rate["too_small"]})
        for step in group["steps"]:
            writer.writerow({"section": "step", "group": name, "name": step["name"],
                             "count": step["count"]})
        pipeline = group["pipeline"]
        writer.writerow({"section": "pipeline", "group": name, "name": "open deals",
                         "count": pipeline["count"]})
        writer.writerow({"section": "pipeline", "group": name, "name": "with a value",
                         "count": pipeline["valued"]})
        for currency, amount in pipeline["value"].items():
            writer.writerow({"section": "pipeline", "group": name, "name": "value",
                             "value": amount, "currency": currency})
        for row in group["velocity"]:
            writer.writerow({"section": "velocity", "group": name, "name": row["stage"],
                             "median_days": row["median_days"], "stays": row["stays"],
                             "current": row["current"]})
    return out.getvalue()
