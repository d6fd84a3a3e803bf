"""Wires intake into a running process: the mail room worker (mail in, requests out)."""

from services.intake.mailroom import MailRoom
from shared.runtime import Resources


def attach_intake(resources: Resources) -> MailRoom:
    settings = resources.settings
    mailroom = MailRoom(resources.new_uow, resources.policies, settings.secret_key)
    resources.workers.append(
        lambda stop: mailroom.run(settings.postgres_dsn, settings.mail_poll_seconds, stop)
    )
    return mailroom
