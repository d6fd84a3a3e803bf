"""mail: attachments stored once by sha256, content fingerprints, bounce counts, thread lookups

Revision ID: 0003_mail
Revises: 0002_review
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_mail"
down_revision: str | None = "0002_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Same Message-ID, same content? Compared without trace headers (Received, Delivered-To).
    op.add_column("inbound_mail", sa.Column("content_sha256", sa.String(length=64), nullable=True))
    op.add_column(
        "address_status",
        sa.Column("temporary_failures", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "attachment_contents",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mail_attachments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("inbound_mail_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("request_ref", sa.String(length=32), nullable=True, index=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("inbound_mail_id", "position", name="uq_mail_attachments_position"),
    )
    # Threading looks replies up by our outgoing Message-IDs and the requester's own.
    op.create_index("ix_notifications_message_id", "notifications", ["message_id"])
    op.create_index(
        "ix_requests_thread_message_ids",
        "requests",
        ["thread_message_ids"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_requests_thread_message_ids", table_name="requests")
    op.drop_index("ix_notifications_message_id", table_name="notifications")
    op.drop_table("mail_attachments")
    op.drop_table("attachment_contents")
    op.drop_column("address_status", "temporary_failures")
    op.drop_column("inbound_mail", "content_sha256")
