"""tasks: a rep's open tasks in id order, the order the API pages them in

The task list pages by id (keyset), so with only (assignee, state, due_at) PostgreSQL
walked the primary key and filtered out every other rep's tasks (about 5,000 rows
read for a page of 50, at 50,000 open tasks). Indexing (assignee, state, id, due_at)
makes a page one index range, checked for its due time without reading the table.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_assignee_by_id", "tasks", ["assignee", "state", "id", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_assignee_by_id", table_name="tasks")
