"""intake channels: IMAP mailbox state, catalog datasets, idempotency keys, web rate counts

Revision ID: 0004_intake_channels
Revises: 0002_review
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_intake_channels"
down_revision: str | None = "0002_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_LIST = sa.text("'[]'::jsonb")


def upgrade() -> None:
    op.create_table(
        "imap_mailboxes",
        sa.Column("mailbox_key", sa.String(length=600), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "catalog_datasets",
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("identifier", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.Column("keywords", postgresql.JSONB(), server_default=_EMPTY_LIST, nullable=False),
        sa.Column("themes", postgresql.JSONB(), server_default=_EMPTY_LIST, nullable=False),
        sa.Column("landing_page", sa.String(), nullable=True),
        sa.Column("distributions", postgresql.JSONB(), server_default=_EMPTY_LIST, nullable=False),
        sa.Column("modified", sa.String(length=64), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jurisdiction", "identifier"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=255), primary_key=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("request_ref", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "web_submission_counts",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=320), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", "window_start"),
    )


def downgrade() -> None:
    op.drop_table("web_submission_counts")
    op.drop_table("idempotency_keys")
    op.drop_table("catalog_datasets")
    op.drop_table("imap_mailboxes")
