"""The ``email_notification`` job: one notification, e-mailed once, in its recipient's language.

Settings are read from the environment on every job, so a worker picks up SMTP settings as they
are now (and tests may point it at their own server). SMTP errors raise, so the job runner
retries with backoff; after the last attempt the notification is marked failed. The Message-ID is
derived from the notification id: should a delivery ever repeat, the copy is recognisable as one.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy.orm import Session

from engine import clock
from engine.config import Settings
from engine.models import Notification, OutboxJob, User
from engine.services import jobs, notifications
from engine.services.notifications import EMAIL_JOB
from worker import notification_text

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
# Params that may be e-mailed once but must not stay in the database afterwards.


def _mark_failed(session: Session, job: OutboxJob, message: str, traceback: str) -> None:
    notification = session.get(Notification, job.payload.get("notification_id"))
    if notification is not None:
        notification.email_status = "failed"
        _forget_one_time_params(notification)


@jobs.register(EMAIL_JOB, on_exhausted=_mark_failed)
def send_notification_email(session: Session, job: OutboxJob) -> None:
    """E-mail notification ``job.payload['notification_id']`` unless it was sent or skipped already."""
    notification = session.get(Notification, job.payload.get("notification_id"))
    if notification is None or notification.email_status in ("sent", "skipped"):
        return
    settings = Settings.from_env()
    user = session.get(User, notification.user_id)
    if not settings.smtp_host or user is None or not user.email or not user.is_active:
        notification.email_status = "skipped"
        _forget_one_time_params(notification)
        return
    message = build_message(notification, user, settings)
    _send(settings, message)
    notification.email_status = "sent"
    notification.emailed_at = clock.now()
    _forget_one_time_params(notification)
    # Ids only: the address and the text are personal data.
    log.info("notification %s e-mailed", notification.id)


def build_message(notification: Notification, user: User, settings: Settings) -> EmailMessage:
    """The e-mail of ``notification`` to ``user``, rendered in the user's language."""
    link = notification_text.link_for(
        settings.base_url,
        instance_id=notification.instance_id,
        task_id=notification.task_id,
        path=(notification.params or {}).get("path"),
    )
    subject, body = notification_text.render(
        notification.kind, user.language, notification.params, link=link, base_url=settings.base_url
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = user.email
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(notification.id, settings)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders do not answer it
    message["Content-Language"] = notification_text.language_of(user.language)
    message.set_content(body + "\n")
    return message


def message_id(notification_id: int, settings: Settings) -> str:
    """A Message-ID that is the same on every delivery of one notification."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "approute.localhost"
    return f"<notification-{notification_id}@{domain}>"


def _send(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def _forget_one_time_params(notification: Notification) -> None:
    params = notification.params or {}
    if any(key in params for key in notifications.ONE_TIME_PARAMS):
        notification.params = {k: v for k, v in params.items() if k not in notifications.ONE_TIME_PARAMS}
