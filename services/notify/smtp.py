"""Hands one message to the SMTP server and says whether to retry, give up, or celebrate."""

from email.message import EmailMessage

import aiosmtplib


class TransientDeliveryError(Exception):
    """4xx, or the server could not be reached: the same message may be tried again."""


class PermanentDeliveryError(Exception):
    """5xx: the address does not take mail; do not try it again."""


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
    ) -> None:
        self._host = host
        self._port = port
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        # Flattened here, with the message's own policy: aiosmtplib would refold at 78.
        raw = message.as_bytes()
        sender = message["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for a in message["To"].addresses]
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
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(reason) from exc
            raise TransientDeliveryError(reason) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(f"{exc.code} {exc.message}") from exc
            raise TransientDeliveryError(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientDeliveryError(repr(exc)) from exc
