"""The digest as a MIME message, and delivery over SMTP with TLS and login from the settings."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import MIMEPart
from email.utils import formatdate, make_msgid

from alerts.digest.errors import DigestError
from alerts.digest.render import RenderedDigest
from alerts.digest.weeks import IsoWeek
from mentionwatch.settings import Settings

log = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 60


class DeliveryError(DigestError):
    """The mail server could not be reached or refused the digest."""


def digest_message_id(sender: str, *, brand_id: int, week: IsoWeek) -> str:
    """The Message-ID of a brand's digest for a week: the same on every attempt.

    If a crash comes between the server accepting the mail and the send being recorded,
    the next run mails the digest again; with the same Message-ID, mail systems that drop
    duplicates (Gmail, many archives) keep one copy.
    """
    domain = sender.rpartition("@")[2] or "digest.mentionwatch"
    return f"<digest.{brand_id}.{week}@{domain}>"


def compose_message(
    digest: RenderedDigest, *, sender: str, recipients: Sequence[str], message_id: str | None = None
) -> MIMEPart:
    """multipart/related( multipart/alternative(text, html), one image/png per chart ).

    The images are related to both alternatives rather than nested under the HTML, a
    layout every common client displays inline when the HTML refers to them by cid:.
    """
    body = MIMEPart()
    body.set_content(digest.text)
    body.add_alternative(digest.html, subtype="html")
    # MIMEPart rather than EmailMessage for the top as well: the parts must be of the
    # same class to be attached, and EmailMessage would stamp MIME-Version on each part.
    message = MIMEPart()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="digest.mentionwatch")
    message["MIME-Version"] = "1.0"
    # RFC 3834: tells vacation responders not to answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.make_related()
    # RFC 2387: the type of the root part, which the images relate to.
    message.set_param("type", "multipart/alternative")
    message.attach(body)
    for chart in digest.charts:
        image = MIMEPart()
        image.set_content(
            chart.png,
            maintype="image",
            subtype="png",
            cid=f"<{digest.content_id(chart)}>",
            filename=f"{chart.name}.png",
            disposition="inline",
        )
        message.attach(image)
    return message


def deliver(message: MIMEPart, settings: Settings) -> None:
    """Send over SMTP: implicit TLS (smtp_ssl) or STARTTLS, certificate checked, then login."""
    host, port = settings.smtp_host, settings.smtp_port
    if not host:
        raise DeliveryError("no mail server: set MENTIONWATCH_SMTP_HOST (and _PORT, _USER, _PASSWORD)")
    context = ssl.create_default_context()
    try:
        client = (
            smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
            if settings.smtp_ssl
            else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
        )
        with client:
            if settings.smtp_starttls and not settings.smtp_ssl:
                client.starttls(context=context)
            if settings.smtp_user:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                client.login(settings.smtp_user, password)
            refused = client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        # The exception text is the server's reply or the socket error, never the password.
        raise DeliveryError(f"mail server {host}:{port}: {exc}") from exc
    if refused:
        log.warning("mail server %s:%s refused %s", host, port, ", ".join(sorted(refused)))
