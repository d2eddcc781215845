"""tasks: every task gets its mailbox owner as assignee; a rep's queue is an index range

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("""
        UPDATE tasks SET assignee = (
            SELECT m.owner FROM enrollments e JOIN mailboxes m ON m.id = e.mailbox_id
            WHERE e.id = tasks.enrollment_id)
        WHERE assignee IS NULL"""))
    op.create_index("ix_tasks_assignee", "tasks", ["assignee", "state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_assignee", table_name="tasks")
