"""Reading the options of a configuration URL (transports, mailboxes): one way for all.

A typo must fail loudly: unknown and repeated keys are refused, yes/no and numbers
are checked, and every message names the URL without its password. ``error`` is the
exception class the caller's users know (``ValueError`` or ``InputError``).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from urllib.parse import SplitResult, parse_qs

YES_NO = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def query_options(parts: SplitResult, allowed: Collection[str], *, where: str, scheme: str,
                  error: type[Exception] = ValueError, hint: str = "") -> dict[str, str]:
    """The query as single values, refusing unknown or repeated keys."""
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise error(f"{where!r}: malformed query") from None
    unknown = set(query) - set(allowed)
    if unknown:
        raise error(f"{where!r}: unknown option(s) {', '.join(sorted(unknown))}; "
                    f"{scheme}:// takes {', '.join(sorted(allowed))}{hint}")
    repeated = sorted(key for key, values in query.items() if len(values) > 1)
    if repeated:
        raise error(f"{where!r}: option(s) given twice: {', '.join(repeated)}")
    return {key: values[0] for key, values in query.items()}


def yes_no(where: str, key: str, value: str, *, error: type[Exception] = ValueError) -> bool:
    try:
        return YES_NO[value.lower()]
    except KeyError:
        raise error(f"{where!r}: {key} must be yes or no, not {value!r}") from None


def positive_number(where: str, key: str, value: str, *, unit: str = "",
                    error: type[Exception] = ValueError) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise error(f"{where!r}: {key} must be a positive number{unit}, not {value!r}")
    return number


def redacted(parts: SplitResult) -> str:
    """The URL with any password replaced by ``***``."""
    if parts.password is None:
        return parts.geturl()
    netloc = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{netloc}").geturl()
