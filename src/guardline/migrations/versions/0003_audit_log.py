"""audit log: hash-chained events, head, signed checkpoints, archives, purges; append-only triggers

Revision ID: 0003_audit_log
Revises: 0002
Create Date: 2026-12-01 07:40:00

Self-contained (no foreign keys into other tables), so it can be re-chained after any revision.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import guardline.kit.db

revision = "0003_audit_log"
down_revision = "0002"
branch_labels = None
depends_on = None

# Rows of these tables are never changed or removed; audit_events rows only by a recorded purge.
_FROZEN = ("audit_events", "audit_checkpoints", "audit_archives", "audit_purges")

_PG_FUNCTION = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- nested, not AND: PL/pgSQL does not promise to skip OLD.seq on tables that have no seq
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_events' THEN
        IF OLD.seq <= (SELECT COALESCE(MAX(last_seq), 0) FROM audit_purges) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _sqlite_triggers() -> list[str]:
    out = []
    for table in _FROZEN:
        out.append(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on {table} refused'); END"
        )
        guard = (
            " WHEN OLD.seq > (SELECT COALESCE(MAX(last_seq), 0) FROM audit_purges)"
            if table == "audit_events"
            else ""
        )
        out.append(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}{guard} "
            f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on {table} refused'); END"
        )
    out.append(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_head refused'); END"
    )
    return out


def _pg_triggers() -> list[str]:
    out = [_PG_FUNCTION]
    for table in _FROZEN:
        out.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
    for table in (*_FROZEN, "audit_head"):
        out.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
    out.append(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )
    return out


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_time", ["time"], unique=False)
        batch_op.create_index("ix_audit_events_tenant_time", ["tenant_id", "time"], unique=False)
        batch_op.create_index("ix_audit_events_actor", ["actor_id", "time"], unique=False)
        batch_op.create_index("ix_audit_events_customer", ["customer_id", "time"], unique=False)
        batch_op.create_index("ix_audit_events_action", ["action", "time"], unique=False)

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("log_id", sa.Uuid(), nullable=False),
        sa.Column("hash_alg", sa.String(length=8), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_time", guardline.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_id", sa.Uuid(), nullable=False),
        sa.Column("hash_alg", sa.String(length=8), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("sig_alg", sa.String(length=8), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("created_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archives")),
    )
    op.create_table(
        "audit_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("archive_id", sa.Integer(), nullable=False),
        sa.Column("purged_at", guardline.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purges")),
    )
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "log_id": uuid.uuid4(),
                "hash_alg": None,
                "size": 0,
                "head_hash": bytes(32),
                "frontier": b"",
                "checkpoint_size": 0,
                "checkpoint_time": None,
            }
        ],
    )
    dialect = op.get_bind().dialect.name
    for statement in _pg_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_append_only() CASCADE")
    op.drop_table("audit_purges")
    op.drop_table("audit_archives")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_action")
        batch_op.drop_index("ix_audit_events_customer")
        batch_op.drop_index("ix_audit_events_actor")
        batch_op.drop_index("ix_audit_events_tenant_time")
        batch_op.drop_index("ix_audit_events_time")
    op.drop_table("audit_events")
