"""Outgoing email: a real SMTP client in production and tests, a console or file backend in development."""

from __future__ import annotations

import smtplib
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template

from marketplace.jobs import enqueue, job
from marketplace.timeutil import utcnow


def build_message(to: str, subject: str, body: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="marketplace.kent.example")
    message.set_content(body)
    return message


def _send_smtp(message: EmailMessage, config) -> None:
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def _send_console(message: EmailMessage, config) -> None:
    print(f"\n----- email -----\n{message.as_string()}\n-----------------", file=sys.stdout, flush=True)


def _send_file(message: EmailMessage, config) -> None:
    folder = Path(config.get("MAIL_FILE_DIR") or Path(current_app.instance_path) / "mail")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    (folder / f"{stamp}.eml").write_bytes(bytes(message))
    _send_console(message, config)


BACKENDS = {"smtp": _send_smtp, "console": _send_console, "file": _send_file}


def send_email(to: str, subject: str, template: str, attachments: tuple[tuple[str, bytes], ...] = (),
               **context) -> EmailMessage:
    """Render templates/email/<template>.txt and send it through the configured backend, with any
    (filename, PDF) attachments."""
    config = current_app.config
    body = render_template(f"email/{template}.txt", **context)
    message = build_message(to, subject, body, config["MAIL_DEFAULT_SENDER"])
    for filename, data in attachments:
        message.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    enqueue("email.deliver", bytes(message))
    return message


@job("email.deliver")
def deliver(raw: bytes) -> None:
    """Hand a built message to the configured backend (in the web process, or in a worker)."""
    message = message_from_bytes(raw, policy=policy.default)
    BACKENDS[current_app.config["MAIL_BACKEND"]](message, current_app.config)
