"""Hands one message to the SMTP server and says whether to retry, give up, or celebrate.

A 4xx (or an unreachable server) is retried here a bounded number of times with backoff,
sending the very same bytes (so the same Message-ID); after that TransientDeliveryError
goes up and the event waits in the retry queue. A 5xx for the recipient (at RCPT or DATA)
is a PermanentDeliveryError: the address does not take mail. A refusal of *our* session
(authentication, sender, HELO, TLS) is never blamed on the recipient: it is transient, so
nobody's address is blocked because our relay settings are wrong.
"""

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from shared.logging import get_logger

log = get_logger(__name__)


class TransientDeliveryError(Exception):
    """4xx, or the server could not be reached: the same message may be tried again."""


class PermanentDeliveryError(Exception):
    """5xx for the recipient: the address does not take mail; do not try it again."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_seconds: float = 1.0
    max_seconds: float = 30.0


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("smtp send failed; trying again", attempt=state.attempt_number, error=str(error))


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        cert_bundle: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._cert_bundle = cert_bundle
        self._retry = retry or RetryPolicy()

    async def send(self, message: EmailMessage) -> None:
        # Flattened once, with the message's own policy (aiosmtplib would refold at 78): every
        # retry sends identical bytes.
        raw = message.as_bytes()
        sender = message["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for a in message["To"].addresses]
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_exponential_jitter(
                multiplier=self._retry.initial_seconds,
                max=self._retry.max_seconds,
                jitter=self._retry.initial_seconds,
            ),
            retry=retry_if_exception_type(TransientDeliveryError),
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._send_once(raw, sender, recipients)

    async def _send_once(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        try:
            await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=recipients,
                hostname=self._host,
                port=self._port,
                start_tls=self._starttls,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
                cert_bundle=self._cert_bundle,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(reason) from exc
            raise TransientDeliveryError(reason) from exc
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(f"{exc.code} {exc.message}") from exc
            raise TransientDeliveryError(f"{exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            # authentication, sender, HELO or greeting refused: our set-up, not their address
            raise TransientDeliveryError(
                f"server refused our session: {exc.code} {exc.message}"
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientDeliveryError(repr(exc)) from exc
