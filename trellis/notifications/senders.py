"""Ways to deliver an outbox message: e-mail over SMTP, text messages, a local file.

A :class:`Sender` delivers one message or raises :class:`DeliveryFailed`. Which one runs is
configuration (:func:`from_settings`): SMTP when ``TRELLIS_SMTP_HOST`` is set, else the
:class:`FileSink`, which appends each message as a JSON line to ``instance/outbox.jsonl``
so a developer running ``make run`` sees what would have been sent. Text messages (SMS,
WeChat service notices) go through a :class:`TextAdapter`, an interface a deployment
implements for its provider; without one, text messages stay in the outbox as failed
with the reason.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from trellis.errors import TrellisError
from trellis.messages import N_, msg

logger = logging.getLogger(__name__)


class DeliveryFailed(TrellisError):
    """Raised by a sender that could not deliver; the outbox keeps the message to retry."""

    code = "delivery_failed"
    status = 502


@dataclass(frozen=True)
class Outgoing:
    channel: str          # "email" or "sms"
    address: str
    subject: str
    body: str
    reference: str = ""   # the outbox id, for logs and idempotency on the provider side


class Sender(ABC):
    """Delivers :class:`Outgoing` messages."""

    channels: tuple[str, ...] = ()

    @abstractmethod
    def send(self, message: Outgoing) -> None:
        """Deliver *message* or raise :class:`DeliveryFailed`."""


class SmtpSender(Sender):
    """E-mail through an SMTP server, with the standard library (``smtplib``, ``email``)."""

    channels = ("email",)

    def __init__(self, *, host: str, port: int = 25, sender: str = "trellis@localhost",
                 sender_name: str = "Trellis", username: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sender, self.sender_name = sender, sender_name
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: Outgoing) -> None:
        """Send an e-mail *message* through the SMTP server; raises DeliveryFailed for another
        channel or a refusal."""
        if message.channel != "email":
            raise DeliveryFailed(msg(N_("SMTP sends e-mail, not %(channel)s messages"),
                                     channel=message.channel))
        mail = EmailMessage()
        mail["From"] = formataddr((self.sender_name, self.sender))
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(idstring=f"trellis-{message.reference}")
        mail.set_content(message.body)   # UTF-8, so Chinese text travels as written
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(msg(N_("the mail server %(host)s:%(port)s could not take the "
                                        "message"),
                                     host=self.host, port=self.port, detail=str(exc))) from exc


class TextAdapter(ABC):
    """A provider of text messages (SMS, WeChat service notices): implement
    :meth:`send_text` for the provider's API and give it to :class:`TextSender`."""

    @abstractmethod
    def send_text(self, *, phone: str, body: str, reference: str) -> None:
        """Deliver *body* to *phone* or raise :class:`DeliveryFailed`."""


class TextSender(Sender):
    channels = ("sms",)

    def __init__(self, adapter: TextAdapter):
        self.adapter = adapter

    def send(self, message: Outgoing) -> None:
        """Send a text *message* through the SMS adapter."""
        self.adapter.send_text(phone=message.address, body=message.body,
                               reference=message.reference)


class FileSink(Sender):
    """Development: append each message as one JSON line to *path* (nothing leaves)."""

    channels = ("email", "sms")
    _lock = threading.Lock()

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def send(self, message: Outgoing) -> None:
        """Append *message* as one JSON line to the sink file (development and tests)."""
        line = json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "channel": message.channel, "to": message.address,
                           "subject": message.subject, "body": message.body,
                           "reference": message.reference}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise DeliveryFailed(msg(N_("the outbox file %(path)s could not be written"),
                                     path=self.path, detail=str(exc))) from exc

    def read(self) -> list[dict]:
        """What was 'sent', oldest first (tests and the developer)."""
        if not self.path.exists():
            return []
        return [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines()
                if x.strip()]


class Router(Sender):
    """Sends each channel through the first sender that handles it."""

    def __init__(self, *senders: Sender):
        self.senders = senders

    def send(self, message: Outgoing) -> None:
        """Send *message* through the first sender of its channel; raises DeliveryFailed when none
        is configured."""
        for sender in self.senders:
            if message.channel in sender.channels:
                sender.send(message)
                return
        raise DeliveryFailed(msg(N_("no sender is configured for %(channel)s messages"),
                                 channel=message.channel))


def from_settings(settings) -> Sender:
    """The sender the settings configure (``smtp_host``, ``smtp_port``, ``smtp_user``,
    ``smtp_password``, ``smtp_starttls`` and ``mail_from``, parsed strictly by
    :mod:`trellis.config`); without a host, the :class:`FileSink` in the instance folder
    (for e-mail and text messages alike)."""
    sink = FileSink(Path(settings.instance_path) / "outbox.jsonl")
    if not settings.smtp_host:
        return sink
    smtp = SmtpSender(host=settings.smtp_host, port=settings.smtp_port,
                      sender=settings.mail_from, username=settings.smtp_user,
                      password=settings.smtp_password, starttls=settings.smtp_starttls)
    return Router(smtp)   # text messages wait for a TextAdapter
