"""Sending the digest to a real SMTP server on loopback: MIME layout, TLS, login, once a week."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from alerts.digest import DigestError, IsoWeek, send_digest, send_weekly_digests
from mentionwatch.config import Brand
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import DigestLog
from tests.digest.known_week import BRAND, local
from tests.digest.smtp_server import Security, SmtpServer, smtp_server

WEEK = IsoWeek(2026, 47)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
USER, PASSWORD = "digest-bot", "s3cret-Pa55"
# aiosmtpd warns that it cannot tell implicit TLS is TLS when told to allow AUTH on it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def settings_for(server: SmtpServer, security: Security, *, login: bool = True) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_starttls=security == "starttls",
        smtp_ssl=security == "ssl",
        smtp_user=USER if login else None,
        smtp_password=SecretStr(PASSWORD) if login else None,
        digest_from="mentionwatch@acme.example",
    )


def parts_of(message: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """The text and HTML alternatives and the images by Content-ID, checking the nesting."""
    assert message.get_content_type() == "multipart/related"
    first, *images = list(message.iter_parts())
    assert first.get_content_type() == "multipart/alternative"
    text_part, html_part = list(first.iter_parts())
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    by_cid: dict[str, bytes] = {}
    for image in images:
        assert image.get_content_type() == "image/png"
        by_cid[image["Content-ID"].strip("<>")] = image.get_content()
    return str(text_part.get_content()), str(html_part.get_content()), by_cid


@pytest.mark.parametrize("security", ["plain", "starttls", "ssl"])
def test_the_digest_arrives_complete(
    filled_sqlite: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    security: Security,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="alerts")
    # Logging in is tested where it is safe: over TLS.
    login = security != "plain"
    with smtp_server(tmp_path, security=security, credentials=(USER, PASSWORD) if login else None) as server:
        if server.cert_file:
            monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_file))
        result = send_digest(filled_sqlite, settings_for(server, security, login=login), BRAND, WEEK, now=NOW)
    assert result.sent and result.recipients == ("cx-lead@example.com", "ceo@example.com")
    (received,) = server.received
    assert received.login == (USER if login else None)
    assert received.tls == (security != "plain")
    assert received.mail_from == "mentionwatch@acme.example"
    assert received.recipients == ["cx-lead@example.com", "ceo@example.com"]
    message = received.message
    assert message["Subject"] == "Acme: reputation digest, week 47 (Nov 16\u2009–\u200922, 2026)"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html, images = parts_of(message)
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert len(referenced) == 4 and referenced == set(images)
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    assert "http" not in "".join(re.findall(r'src="([^"]+)"', html))  # nothing fetched from outside
    # The headline numbers of the known week (worked out in test_metrics.py).
    for expected in (
        "Mentions: 13",
        "Negative share: 50%",
        "Net sentiment: −0.20",
        "Average rating: 3.7 ★",
        "CSAT: 71%",
        "NPS (from ratings): +14",
        "Negatives answered: 50%",
        "Median time to answer: 2 hours",
        "Negatives not handled: 2",
    ):
        assert expected in text
    for expected in ("13", "50%", "−0.20", "3.7 ★", "71%", "+14", "2 hours", "https://forum.example/m6"):
        assert expected in html
    assert PASSWORD not in caplog.text


# The forced send is stamped with the clock, which must be later than NOW whatever day it is.
@time_machine.travel(NOW + timedelta(hours=1))
def test_a_second_send_does_nothing_and_force_sends_again(filled_sqlite: Engine, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        settings = settings_for(server, "plain", login=False)
        first = send_digest(filled_sqlite, settings, BRAND, WEEK, now=NOW)
        again = send_digest(filled_sqlite, settings, BRAND, WEEK)
        assert len(server.received) == 1
        assert first.sent and not again.sent and again.sent_at == NOW and again.digest is None
        forced = send_digest(filled_sqlite, settings, BRAND, WEEK, force=True)
        assert forced.sent and len(server.received) == 2
        other_week = send_digest(filled_sqlite, settings, BRAND, WEEK.shifted(-1))
        assert other_week.sent and len(server.received) == 3
    with session_scope(filled_sqlite) as session:
        logged = session.exec(select(DigestLog).order_by(DigestLog.week)).all()
    assert [row.week for row in logged] == ["2026-W46", "2026-W47"]
    assert logged[1].sent_at > NOW


def test_a_send_whose_record_was_lost_repeats_the_message_id(filled_sqlite: Engine, tmp_path: Path) -> None:
    """A crash after the server took the mail but before the row was written: the retry is
    the same message to mail systems that drop duplicates; a forced send is a new one."""
    with smtp_server(tmp_path) as server:
        settings = settings_for(server, "plain", login=False)
        send_digest(filled_sqlite, settings, BRAND, WEEK, now=NOW)
        with session_scope(filled_sqlite) as session:
            session.delete(session.exec(select(DigestLog)).one())
        send_digest(filled_sqlite, settings, BRAND, WEEK, now=NOW)
        send_digest(filled_sqlite, settings, BRAND, WEEK, now=NOW, force=True)
        first, retried, forced = (received.message["Message-ID"] for received in server.received)
    assert first == retried and first.endswith("@acme.example>")
    assert forced != first


def test_a_wrong_password_fails_clearly_and_records_nothing(
    filled_sqlite: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(tmp_path, security="starttls", credentials=(USER, "another")) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_file))
        settings = settings_for(server, "starttls")
        with pytest.raises(DigestError, match=rf"127.0.0.1:{server.port}.*535") as failure:
            send_digest(filled_sqlite, settings, BRAND, WEEK)
    assert PASSWORD not in str(failure.value)
    assert server.received == []
    with session_scope(filled_sqlite) as session:
        assert session.exec(select(DigestLog)).all() == []


def test_an_untrusted_certificate_is_refused(filled_sqlite: Engine, tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="starttls") as server:
        with pytest.raises(DigestError, match="CERTIFICATE_VERIFY_FAILED"):
            send_digest(filled_sqlite, settings_for(server, "starttls", login=False), BRAND, WEEK)
    assert server.received == []


def test_no_recipients_or_no_server_is_a_clear_error(filled_sqlite: Engine) -> None:
    nobody = BRAND.model_copy(update={"digest_recipients": []})
    with pytest.raises(DigestError, match="'Acme' has no digest_recipients"):
        send_digest(filled_sqlite, Settings(smtp_host="127.0.0.1"), nobody, WEEK)
    with pytest.raises(DigestError, match="MENTIONWATCH_SMTP_HOST"):
        send_digest(filled_sqlite, Settings(smtp_host=None), BRAND, WEEK)


def test_the_weekly_job_sends_each_week_once_from_monday_morning(
    filled_sqlite: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = Brand(name="Quiet")  # no recipients: left out
    ghost = Brand(name="Ghost", digest_recipients=["x@example.com"])  # not in the store: fails alone
    brands = [ghost, quiet, BRAND]
    with smtp_server(tmp_path) as server:
        settings = settings_for(server, "plain", login=False)
        # Monday 23 November, 06:59 in Warsaw: week 47 is not due yet; week 46 never went out.
        early = send_weekly_digests(filled_sqlite, settings, brands, now=local(23, 6, 59))
        assert [(r.brand, str(r.week), r.sent) for r in early] == [("Acme", "2026-W46", True)]
        due = send_weekly_digests(filled_sqlite, settings, brands, now=local(23, 7, 0))
        assert [(r.brand, str(r.week), r.sent) for r in due] == [("Acme", "2026-W47", True)]
        later = send_weekly_digests(filled_sqlite, settings, brands, now=local(23, 8, 0))
        assert [(r.brand, str(r.week), r.sent) for r in later] == [("Acme", "2026-W47", False)]
    subjects = [str(m.message["Subject"]) for m in server.received]
    assert [re.findall(r"week (\d+)", subject) for subject in subjects] == [["46"], ["47"]]
    assert "digest for Ghost" in caplog.text and "not in the store" in caplog.text
