"""Wires intake into a running process: the mail room worker (mail in, requests out), and
when configured the SMTP listener and the IMAP poller (mail in, stored like the pipe)."""

from services.intake.imap_poller import ImapAccount, ImapPoller
from services.intake.mailroom import MailRoom
from services.intake.smtp_listener import SmtpListener
from shared.runtime import Resources


def attach_intake(resources: Resources) -> MailRoom:
    settings = resources.settings
    mailroom = MailRoom(resources.new_uow, resources.policies, settings.secret_key)
    resources.workers.append(
        lambda stop: mailroom.run(settings.postgres_dsn, settings.mail_poll_seconds, stop)
    )
    if settings.smtp_listen_port is not None:
        listener = SmtpListener(
            settings.postgres_dsn,
            resources.clock,
            settings.smtp_listen_host,
            settings.smtp_listen_port,
            settings.smtp_listen_max_bytes,
            settings.smtp_listen_hostname,
        )
        resources.workers.append(listener.run)
    if settings.imap_host:
        poller = ImapPoller(
            ImapAccount(
                host=settings.imap_host,
                port=settings.imap_port,
                user=settings.imap_user,
                password=settings.imap_password,
                mailbox=settings.imap_mailbox,
                ssl=settings.imap_ssl,
                recipient=settings.imap_recipient,
                move_to=settings.imap_move_to,
            ),
            settings.postgres_dsn,
            resources.new_uow,
            resources.clock,
        )
        resources.workers.append(lambda stop: poller.run(settings.imap_poll_seconds, stop))
    return mailroom
