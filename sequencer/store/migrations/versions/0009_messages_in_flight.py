"""messages: a partial index of the messages in flight, for the mailbox cap

The cap counts a mailbox's messages sent today plus those prepared or being handed
over. The in-flight count read the (mailbox, status) index, which holds every message
the mailbox ever sent: a few milliseconds on each batch once a mailbox has sent a few
thousand. A partial index holds only the messages on their way.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FLIGHT = "status IN ('ready', 'sending')"


def upgrade() -> None:
    op.create_index("ix_messages_in_flight", "messages", ["mailbox_id"],
                    postgresql_where=sa.text(IN_FLIGHT), sqlite_where=sa.text(IN_FLIGHT))
    op.drop_index("ix_messages_mailbox_status", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_mailbox_status", "messages", ["mailbox_id", "status"])
    op.drop_index("ix_messages_in_flight", table_name="messages")
