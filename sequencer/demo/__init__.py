"""The demo scenario: the whole product at work on a virtual clock, in one process.

``sequencer demo`` builds a fresh SQLite store in an output folder, enrolls sample
prospects from many countries and time zones into the example sequences, and runs
the real scheduler and executor (the embedded runtime) on a ``FakeClock``. Emails
land in a file outbox as ``.eml`` files; a simulated rep works the tasks; the
prospects' answers (replies in several languages, out-of-office notes, RFC 3464
bounces, unsubscribe requests) are built as MIME from those very files and taken in
through the real inbound path. Everything is seeded: the same seed gives the same run.

Modules: ``people`` (who is enrolled where), ``phrases`` and ``answers`` (what
prospects and their mail servers write back), ``fates`` (who answers what, when),
``rep`` (the simulated rep), ``sales`` (the meetings and deals positive replies
lead to), ``world`` (the folder, store, mailboxes and enrollments), ``runner`` (the
virtual-clock loop) and ``figures`` (what it did).
"""

from sequencer.demo.runner import DemoRun, WeekProgress, run_demo
from sequencer.demo.world import DemoOptions, DemoWorld, build_world

__all__ = ["DemoOptions", "DemoRun", "DemoWorld", "WeekProgress", "build_world", "run_demo"]
