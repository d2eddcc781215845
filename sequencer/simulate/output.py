"""Writing a simulation's touches as JSON (ARCHITECTURE §7), streamed row by row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sequencer.simulate.runner import SimulationResult


def write_touches(result: SimulationResult, path: Path) -> int:
    """Write every touch as one object of a JSON array; returns the count.

    Fields: prospect_id, timezone, step_id, step_type, variant, mailbox, utc, local.
    """
    with path.open("w", encoding="utf-8") as handle:
        return _write(result, handle)


def _write(result: SimulationResult, out: IO[str]) -> int:
    zones = {z: ZoneInfo(z) for z in {p.timezone for p in result.prospects}}
    mailboxes = [m.address for m in result.mailboxes]
    dumps = json.dumps
    out.write("[")
    for n, touch in enumerate(sorted(result.touches, key=lambda t: (t.at, t.prospect))):
        prospect = result.prospects[touch.prospect]
        mailbox = mailboxes[touch.mailbox] if touch.mailbox is not None else None
        utc = datetime.fromtimestamp(touch.at, UTC)
        local = utc.astimezone(zones[prospect.timezone])
        row = (f'{{"prospect_id":{dumps(prospect.id)},"timezone":{dumps(prospect.timezone)},'
               f'"step_id":{dumps(touch.step)},"step_type":"{touch.type.value}",'
               f'"variant":{dumps(touch.variant)},'
               f'"mailbox":{dumps(mailbox)},'
               f'"utc":"{utc.isoformat().replace("+00:00", "Z")}",'
               f'"local":"{local.isoformat()}"}}')
        out.write(("\n" if n == 0 else ",\n") + row)
    out.write("\n]\n")
    return len(result.touches)
