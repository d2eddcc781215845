"""inbound mail: the IMAP position per mailbox, mailbox pauses, events per mailbox

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes") as table:
        table.add_column(sa.Column("pause_reason", sa.String(200), nullable=True))
        table.add_column(sa.Column("inbound_url", sa.String(1000), nullable=True))
        table.add_column(sa.Column("inbound_uidvalidity", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("inbound_last_uid", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("events") as table:
        table.add_column(sa.Column("mailbox_id", sa.Integer(), nullable=True))
        table.create_foreign_key("fk_events_mailbox_id_mailboxes", "mailboxes",
                                 ["mailbox_id"], ["id"])
    op.create_index("ix_events_mailbox_kind", "events", ["mailbox_id", "kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_events_mailbox_kind", table_name="events")
    with op.batch_alter_table("events") as table:
        table.drop_constraint("fk_events_mailbox_id_mailboxes", type_="foreignkey")
        table.drop_column("mailbox_id")
    with op.batch_alter_table("mailboxes") as table:
        for column in ("inbound_last_uid", "inbound_uidvalidity", "inbound_url",
                       "pause_reason"):
            table.drop_column(column)
