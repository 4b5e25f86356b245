"""bot handoffs: resolved by whom and when (a person hands the conversation back to the bot)

Revision ID: 0006_handoff_resolve
Revises: 0005_bot
Create Date: 2026-12-01 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import guardline.kit.db

revision = "0006_handoff_resolve"
down_revision = "0005_bot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bot_handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("resolved_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bot_handoffs_resolved_by_staff_users"), "staff_users", ["resolved_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("bot_handoffs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_bot_handoffs_resolved_by_staff_users"), type_="foreignkey")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
