"""Alembic environment: the URL comes from Guardline's settings unless the caller passes a connection."""

from __future__ import annotations

from alembic import context

import guardline.access.models
import guardline.audit.models
import guardline.bot.models
import guardline.conversations.models
import guardline.identity.models
import guardline.monitoring.models  # noqa: F401  (registers the tables)
from guardline.kit.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
