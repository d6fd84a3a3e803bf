"""Default connection settings, importable without pydantic (the mail pipe reads them)."""

ENV_PREFIX = "RECORDSDESK_"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/recordsdesk"


def plain_postgres_dsn(url: str) -> str:
    """asyncpg wants `postgresql://`; SQLAlchemy's URL carries a `+driver`."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"
