"""indexes for the batched hot path: mailbox counts and the sweeper

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_mailbox_sent", "messages", ["mailbox_id", "sent_at"])
    op.create_index("ix_messages_mailbox_status", "messages", ["mailbox_id", "status"])
    op.create_index("ix_enrollments_waiting", "enrollments", ["waiting_on"],
                    postgresql_where=sa.text("waiting_on IS NOT NULL"),
                    sqlite_where=sa.text("waiting_on IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_enrollments_waiting", table_name="enrollments")
    op.drop_index("ix_messages_mailbox_status", table_name="messages")
    op.drop_index("ix_messages_mailbox_sent", table_name="messages")
