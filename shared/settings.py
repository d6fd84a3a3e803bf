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
    smtp_cert_bundle: Path | None = Field(
        default=None, description="CA file to trust for STARTTLS (a private relay's own CA)."
    )
    smtp_retry_attempts: int = Field(
        default=3, ge=1, description="Tries of one message on a 4xx before the retry queue."
    )
    smtp_retry_initial_seconds: float = Field(default=1.0, ge=0)
    smtp_retry_max_seconds: float = Field(default=30.0, ge=0)
    notify_rate_limit: int = Field(
        default=20, ge=1, description="Most mails to one requester address per window."
    )
    notify_rate_window_seconds: int = Field(default=3600, ge=1)
    notify_claim_lease_seconds: int = Field(
        default=600, ge=1, description="After this a claimed, unmarked mail may be sent again."
    )
    notify_retry_after_seconds: int = Field(
        default=900, ge=1, description="When the sweeper retries a mail the retry queue gave up on."
    )
    notify_sweep_seconds: float = Field(
        default=30.0, gt=0, description="How often deferred and stale mails are looked at."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    secret_key: str = Field(
        default="dev-only-secret-change-me",
        description="Signs reply addresses and status tokens; set a long random value in production.",
    )
    log_level: str = "INFO"
    prefetch: int = Field(default=16, ge=1, description="Unacked messages per consumer.")
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="Connections per process (and as many again in overflow); handlers run "
        "concurrently up to PREFETCH per queue, so keep it near PREFETCH.",
    )
    max_delivery_attempts: int = Field(default=5, ge=1)
    retry_delay_ms: int = Field(
        default=2000, ge=10, description="Delay before a failed message is retried."
    )
    shutdown_grace_seconds: float = Field(default=10.0, gt=0)
    relay_poll_seconds: float = 2.0
    timer_poll_seconds: float = 5.0
    mail_poll_seconds: float = 2.0
    # --- intake channels: SMTP listener and IMAP polling (each off unless configured) ---
    smtp_listen_host: str = "127.0.0.1"
    smtp_listen_port: int | None = Field(
        default=None, description="Port of the SMTP listener inside `run intake`; unset: off."
    )
    smtp_listen_hostname: str = Field(
        default="recordsdesk", description="Name the SMTP listener greets with."
    )
    smtp_listen_max_bytes: int = Field(
        default=26_214_400, ge=1024, description="Largest message the listener accepts (552 over)."
    )
    imap_host: str | None = Field(default=None, description="IMAP server to poll; unset: off.")
    imap_port: int = 143
    imap_ssl: bool = False
    imap_user: str = ""
    imap_password: str = ""
    imap_mailbox: str = "INBOX"
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    imap_recipient: str = Field(
        default="", description="Intake address the polled mailbox receives for, if known."
    )
    imap_move_to: str | None = Field(
        default=None, description="Move stored messages to this mailbox instead of flagging \\Seen."
    )
    # --- web form: idempotency and rate limits (counted in the database) ---
    web_rate_window_seconds: int = Field(default=3600, ge=1)
    web_requests_per_email: int = Field(
        default=10, ge=1, description="Web requests one requester address may file per window."
    )
    web_requests_per_client: int = Field(
        default=30, ge=1, description="Web requests one client address may file per window."
    )
    web_trust_forwarded_for: bool = Field(
        default=False,
        description="Behind a reverse proxy: take the client from X-Forwarded-For's last entry.",
    )
    idempotency_key_hours: int = Field(default=24, ge=1)

    @property
    def postgres_dsn(self) -> str:
        return defaults.plain_postgres_dsn(self.database_url)
