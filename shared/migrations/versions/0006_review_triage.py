"""review: triage findings and the appeal deadline on the request

Revision ID: 0006_review_triage
Revises: 0002_review
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_review_triage"
down_revision: str | None = "0002_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "requests",
        sa.Column(
            "triage", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.add_column("requests", sa.Column("appeal_deadline", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("requests", "appeal_deadline")
    op.drop_column("requests", "triage")
