"""Wires notify into a running process: its queue consumer, the SMTP mailer and the sweeper
that sends deferred and retried mail. Checks every template first: a missing or broken one
stops start-up, never a send."""

from services.notify.delivery import DeliveryRules, Notifier
from services.notify.smtp import RetryPolicy, SmtpMailer
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
            cert_bundle=str(settings.smtp_cert_bundle) if settings.smtp_cert_bundle else None,
            retry=RetryPolicy(
                attempts=settings.smtp_retry_attempts,
                initial_seconds=settings.smtp_retry_initial_seconds,
                max_seconds=settings.smtp_retry_max_seconds,
            ),
        ),
        settings.secret_key,
        settings.public_base_url,
        resources.clock,
        DeliveryRules.from_settings(settings),
    )
    notifier.check_templates()
    resources.inboxes["notify"] = subscribe(
        resources.broker,
        resources.topology,
        "notify",
        notifier,
        settings.max_delivery_attempts,
    )
    resources.workers.append(lambda stop: notifier.run(settings.notify_sweep_seconds, stop))
    return notifier
