"""reporting: the report_sends rollup and its state; events by Message-ID and time,
messages by send time

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_message_id", "events", ["message_id"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_table(
        "report_sends",
        sa.Column("message_pk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("sequence_version_id", sa.Integer(), nullable=False),
        sa.Column("sequence_name", sa.String(length=200), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"]),
        sa.PrimaryKeyConstraint("message_pk"),
    )
    op.create_index("ix_report_sends_prospect", "report_sends", ["prospect_id", "sent_at"])
    op.create_index("ix_report_sends_slice", "report_sends",
                    ["sequence_name", "step_id", "variant", "prospect_id"],
                    postgresql_include=["flags", "sent_at", "first_reply_at"])
    op.create_index("ix_report_sends_replied", "report_sends", ["message_pk"],
                    postgresql_where=sa.text("first_reply_at IS NOT NULL"),
                    sqlite_where=sa.text("first_reply_at IS NOT NULL"))
    op.create_table(
        "report_rollup",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("events_seen", sa.BigInteger(), nullable=False),
        sa.Column("events_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rules", sa.String(length=64), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("report_rollup")
    op.drop_index("ix_report_sends_replied", table_name="report_sends")
    op.drop_index("ix_report_sends_slice", table_name="report_sends")
    op.drop_index("ix_report_sends_prospect", table_name="report_sends")
    op.drop_table("report_sends")
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.drop_index("ix_events_occurred_at", table_name="events")
    op.drop_index("ix_events_message_id", table_name="events")
