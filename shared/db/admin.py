"""Creating and dropping whole databases (migrate, tests)."""

import asyncpg
from sqlalchemy.engine import make_url

from shared.defaults import plain_postgres_dsn


def _split(database_url: str) -> tuple[str, str]:
    url = make_url(database_url)
    name = url.database or "recordsdesk"
    admin = url.set(drivername="postgresql", database="postgres")
    return plain_postgres_dsn(admin.render_as_string(hide_password=False)), name


async def ensure_database(database_url: str) -> bool:
    """Create the database when missing; True if it was created."""
    admin_dsn, name = _split(database_url)
    connection = await asyncpg.connect(admin_dsn)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
        return not exists
    finally:
        await connection.close()


async def drop_database(database_url: str) -> None:
    admin_dsn, name = _split(database_url)
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
