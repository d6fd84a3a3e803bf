"""Wires notify into a running process: its queue consumer and the SMTP mailer."""

from services.notify.delivery import Notifier
from services.notify.plans import TEMPLATES
from services.notify.smtp import SmtpMailer
from shared.delivery import subscribe
from shared.runtime import Resources


def attach_notify(resources: Resources) -> Notifier:
    settings = resources.settings
    notifier = Notifier(
        resources.new_uow,
        resources.policies,
        SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        ),
        settings.secret_key,
        settings.public_base_url,
        resources.clock,
    )
    notifier.check_templates(TEMPLATES)  # a broken template stops start-up, not a send
    resources.inboxes["notify"] = subscribe(
        resources.broker,
        resources.topology,
        "notify",
        notifier,
        resources.settings.max_delivery_attempts,
    )
    return notifier
