"""Configuration from RECORDSDESK_* environment variables. No I/O at import."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import defaults

DEFAULT_POLICY_DIR = Path(__file__).parent / "policies"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=defaults.ENV_PREFIX, extra="ignore")

    amqp_url: str = defaults.AMQP_URL
    database_url: str = defaults.DATABASE_URL
    namespace: str = Field(
        default="",
        description="Prefix on every exchange and queue name, so installs can share a broker.",
    )
    policy_dir: Path = DEFAULT_POLICY_DIR
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 30.0
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    secret_key: str = Field(
        default="dev-only-secret-change-me",
        description="Signs reply addresses and status tokens; set a long random value in production.",
    )
    log_level: str = "INFO"
    prefetch: int = Field(default=16, ge=1, description="Unacked messages per consumer.")
    max_delivery_attempts: int = Field(default=5, ge=1)
    retry_delay_ms: int = Field(
        default=2000, ge=10, description="Delay before a failed message is retried."
    )
    relay_poll_seconds: float = 2.0
    timer_poll_seconds: float = 5.0
    mail_poll_seconds: float = 2.0

    @property
    def postgres_dsn(self) -> str:
        return defaults.plain_postgres_dsn(self.database_url)
