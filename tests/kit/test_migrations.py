"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

import guardline.access.models
import guardline.audit.models
import guardline.bot.models
import guardline.conversations.models
import guardline.identity.models
import guardline.monitoring.models  # noqa: F401
from guardline.kit.db import Base


def test_models_match_migrations(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_statement_parameters_stay_out_of_errors(db_engine: Engine) -> None:
    with db_engine.connect() as conn, pytest.raises(DBAPIError) as info:
        conn.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "13812345678"})
    assert "13812345678" not in str(info.value)
