"""notify: when a deferred mail is due, and indexes for rate limits and the sweeper

Revision ID: 0005_notify
Revises: 0002_review
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_notify"
down_revision: str | None = "0002_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    )
    # mails sent to one address in the rate-limit window
    op.create_index(
        "ix_notifications_recipient_sent",
        "notifications",
        [sa.text("lower(recipient)"), "sent_at"],
        postgresql_where=sa.text("status = 'sent'"),
    )
    # what the sweeper looks at: deferred, retry and (possibly stale) sending rows
    op.create_index(
        "ix_notifications_unfinished",
        "notifications",
        ["status", "next_attempt_at"],
        postgresql_where=sa.text("status IN ('deferred', 'retry', 'sending')"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_unfinished", table_name="notifications")
    op.drop_index("ix_notifications_recipient_sent", table_name="notifications")
    op.drop_column("notifications", "next_attempt_at")
