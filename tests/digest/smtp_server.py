"""A real SMTP server on loopback (aiosmtpd), plain, with STARTTLS or with implicit TLS.

The TLS variants use a self-signed certificate for 127.0.0.1 made here with
`cryptography`; tests point SSL_CERT_FILE at it, so the digest's sender verifies the
server exactly as it would verify a real one.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
Security = Literal["plain", "starttls", "ssl"]


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps every accepted message, parsed with policy.default."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        # The connection's own TLS state: aiosmtpd's session.ssl is only set by STARTTLS.
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos), message, tls, login))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    port: int
    recorder: Recorder
    cert_file: Path | None

    @property
    def received(self) -> list[Received]:
        return self.recorder.received


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mentionwatch test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(
    folder: Path, *, security: Security = "plain", credentials: tuple[str, str] | None = None
) -> Iterator[SmtpServer]:
    """Run an SMTP server on 127.0.0.1 for the duration of the block.

    With `credentials`, AUTH is required and only that user and password are accepted.
    """
    recorder = Recorder()
    options: dict[str, Any] = {}
    cert_file = None
    if security != "plain":
        cert_file, key_file = self_signed_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        if security == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(ssl_context=context)
    if credentials is not None:

        def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == credentials
            return AuthResult(success=ok, handled=False, auth_data=data)

        # aiosmtpd only counts STARTTLS as TLS (and warns otherwise); implicit TLS is secure as well.
        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=security != "ssl")
    controller = Controller(recorder, hostname=HOST, port=_free_port(), **options)
    controller.start()
    try:
        yield SmtpServer(controller.port, recorder, cert_file)
    finally:
        controller.stop()
