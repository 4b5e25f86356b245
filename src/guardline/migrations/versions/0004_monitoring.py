"""monitoring: alerts with evidence, webhook delivery attempts, blocked addresses, known credential sources

Revision ID: 0004_monitoring
Revises: 0003_audit_log
Create Date: 2026-12-01 08:20:00

No foreign keys out of these tables (alerts outlive the accounts and credentials they are about).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import guardline.kit.db

revision = "0004_monitoring"
down_revision = "0003_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("firings", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("first_seen", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responses", sa.JSON(), nullable=False),
        sa.Column("responded_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alerts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_monitoring_alerts_open_key")),
    )
    with op.batch_alter_table("monitoring_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_alerts_rule", ["rule_id", "last_seen"], unique=False)
        batch_op.create_index(
            "ix_monitoring_alerts_tenant_status", ["tenant_id", "status", "last_seen"], unique=False
        )

    op.create_table(
        "monitoring_blocks",
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("until", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_monitoring_blocks")),
    )
    op.create_table(
        "monitoring_known_sources",
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("first_seen", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "address", name=op.f("pk_monitoring_known_sources")),
    )
    op.create_table(
        "monitoring_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("time", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["monitoring_alerts.id"],
            name=op.f("fk_monitoring_deliveries_alert_id_monitoring_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_deliveries")),
    )
    with op.batch_alter_table("monitoring_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_deliveries_alert", ["alert_id", "attempt"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("monitoring_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_deliveries_alert")

    op.drop_table("monitoring_deliveries")
    op.drop_table("monitoring_known_sources")
    op.drop_table("monitoring_blocks")
    with op.batch_alter_table("monitoring_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_alerts_tenant_status")
        batch_op.drop_index("ix_monitoring_alerts_rule")

    op.drop_table("monitoring_alerts")
