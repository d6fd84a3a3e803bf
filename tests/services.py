"""Finding RabbitMQ and PostgreSQL for a test run, as DESIGN.md says: the URLs in
RECORDSDESK_TEST_*; else the local services when they answer; else testcontainers when
Docker runs; else skip with a message saying what to start."""

import os
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared import defaults

START_HINT = (
    "RabbitMQ and PostgreSQL are needed: run `bash infra/ensure-services.sh` "
    "(or set RECORDSDESK_TEST_AMQP_URL and RECORDSDESK_TEST_DATABASE_URL)"
)


@dataclass(frozen=True)
class ServiceUrls:
    amqp_url: str
    database_url: str  # of the server; each run makes its own database on it
    origin: str


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _containers(stack: ExitStack) -> ServiceUrls | None:
    try:
        import docker

        docker.from_env().ping()
        from testcontainers.postgres import PostgresContainer
        from testcontainers.rabbitmq import RabbitMqContainer
    except Exception:
        return None
    pg = stack.enter_context(PostgresContainer("postgres:16", driver="asyncpg"))
    rabbit = stack.enter_context(RabbitMqContainer("rabbitmq:3.13"))
    amqp = f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/"
    return ServiceUrls(amqp, pg.get_connection_url(), "testcontainers")


def find_services(stack: ExitStack) -> ServiceUrls | str:
    """The services to use, or the reason to skip."""
    env_amqp = os.environ.get("RECORDSDESK_TEST_AMQP_URL")
    env_db = os.environ.get("RECORDSDESK_TEST_DATABASE_URL")
    if env_amqp and env_db:
        return ServiceUrls(env_amqp, env_db, "environment")
    amqp = env_amqp or defaults.AMQP_URL
    database = env_db or defaults.DATABASE_URL
    if _answers(amqp, 5672) and _answers(database, 5432):
        return ServiceUrls(amqp, database, "local")
    found = _containers(stack)
    return found if found is not None else START_HINT
