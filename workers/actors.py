"""The actors: thin wrappers from a message to one call of the runtime.

Actor arguments are ids only, one message per step run (ARCHITECTURE §5).
Retries are for transient trouble reaching the database; the step itself is
idempotent by its unique step run, so a redelivered message is a no-op.
"""

from __future__ import annotations

import dramatiq

from workers.process import process_pipeline


@dramatiq.actor(queue_name="steps", max_retries=5, min_backoff=1000, max_backoff=60_000,
                time_limit=120_000)
def execute_step(run_id: int) -> None:
    # Returns once the run is settled, so the message is acknowledged only then;
    # meanwhile the process's pipeline does it together with the other runs under way.
    process_pipeline().run(int(run_id))
