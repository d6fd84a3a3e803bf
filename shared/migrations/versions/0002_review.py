"""review: request lifecycle columns and API keys

Revision ID: 0002_review
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_review"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_LIST = sa.text("'[]'::jsonb")
_EMPTY_OBJECT = sa.text("'{}'::jsonb")


def upgrade() -> None:
    add = op.add_column
    add(
        "requests",
        sa.Column(
            "legal_review_reasons", postgresql.JSONB(), server_default=_EMPTY_LIST, nullable=False
        ),
    )
    add("requests", sa.Column("linked_ref", sa.String(length=32), nullable=True))
    add("requests", sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True))
    add(
        "requests",
        sa.Column("pauses", postgresql.JSONB(), server_default=_EMPTY_LIST, nullable=False),
    )
    add(
        "requests",
        sa.Column("extension_business_days", sa.Integer(), server_default="0", nullable=False),
    )
    add("requests", sa.Column("extensions_used", sa.Integer(), server_default="0", nullable=False))
    add(
        "requests",
        sa.Column(
            "cost_estimate", postgresql.JSONB(), server_default=_EMPTY_OBJECT, nullable=False
        ),
    )
    add("requests", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    add("requests", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    add("requests", sa.Column("close_reason", sa.String(length=32), nullable=True))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("request_ref", sa.String(length=32), nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("holder_email", sa.String(length=320), nullable=False),
        sa.Column("scopes", postgresql.JSONB(), server_default=_EMPTY_LIST, nullable=False),
        sa.Column("rate_limit_per_hour", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspended_until", sa.Date(), nullable=True),
        sa.Column("status_reason", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    for column in (
        "close_reason",
        "closed_at",
        "decided_at",
        "cost_estimate",
        "extensions_used",
        "extension_business_days",
        "pauses",
        "paused_since",
        "linked_ref",
        "legal_review_reasons",
    ):
        op.drop_column("requests", column)
