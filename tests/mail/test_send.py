"""`newsletter --send` / `--send-test` against a loopback SMTP server (aiosmtpd): the MIME structure a mail client
needs (multipart/alternative: text, then HTML with its pictures inline by Content-ID), STARTTLS and implicit TLS
with a login, SAMPLE DATA refused by --send, and one clear line (never the password) when sending fails.

loopback-cert.pem / loopback-key.pem: a self-signed certificate for 127.0.0.1, for these tests only.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from typer.testing import CliRunner

from ai_content_agents.cli import app

HERE = Path(__file__).parent
CERT, KEY = HERE / "loopback-cert.pem", HERE / "loopback-key.pem"
PASSWORD = "smtp-pw-CANARY-7f3a9"
runner = CliRunner()


@dataclass
class Inbox:
    """What the loopback server accepted: one (envelope recipients, parsed message) per DATA."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"mailer" and data.password == PASSWORD.encode()
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(CERT, KEY)
    return ctx


@pytest.fixture
def smtp(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A loopback SMTP server; param: "none" (a plain relay), "starttls" or "ssl" (both require a login)."""
    mode = getattr(request, "param", "none")
    inbox = Inbox()
    port = _free_port()
    kw: dict[str, Any] = {}
    if mode == "starttls":
        kw = {"tls_context": _server_tls(), "require_starttls": True, "auth_required": True,
              "authenticator": inbox.authenticate, "auth_require_tls": True}
    elif mode == "ssl":
        # implicit TLS: aiosmtpd cannot tell the session is encrypted, so it is told not to insist on STARTTLS
        kw = {"ssl_context": _server_tls(), "auth_required": True, "authenticator": inbox.authenticate,
              "auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
    controller.start()
    monkeypatch.setenv("AICA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AICA_SMTP_PORT", str(port))
    monkeypatch.setenv("AICA_SMTP_SECURITY", mode)
    monkeypatch.setenv("AICA_SMTP_FROM", "Trends <trends@example.com>")
    monkeypatch.setenv("AICA_SMTP_TIMEOUT_S", "10")
    if mode != "none":
        monkeypatch.setenv("AICA_SMTP_USER", "mailer")
        monkeypatch.setenv("AICA_SMTP_PASSWORD", PASSWORD)
        monkeypatch.setenv("AICA_SMTP_CA_FILE", str(CERT))
    try:
        yield inbox
    finally:
        controller.stop()


def _check_structure(msg: EmailMessage) -> None:
    """What a mail client needs to show the issue: text and HTML alternatives, every picture inline by CID."""
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()  # type: ignore[misc]
    assert text.get_content_type() == "text/plain" and "SAMPLE DATA" in text.get_content()
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    body = html.get_content()
    assert images, "the issue's pictures travel inside the message"
    assert 'src="images/' not in body  # no picture is left pointing at a file the reader does not have
    for image in images:
        assert image.get_content_maintype() == "image" and image.get_content_disposition() == "inline"
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in body
    assert len(images) == len(set(i["Content-ID"] for i in images))


def test_send_test_mails_the_issue_as_text_and_html_with_inline_pictures(smtp: Inbox) -> None:
    result = runner.invoke(app, ["newsletter", "--sample", "--send-test", "me@example.com"])
    assert result.exit_code == 0, result.output
    assert "Sent the test issue to 1 recipient(s)" in result.output
    [(rcpts, msg)] = smtp.messages
    assert rcpts == ["me@example.com"] and msg["To"] == "me@example.com"
    assert msg["Subject"].startswith("[TEST] SAMPLE DATA:") and msg["From"] == "Trends <trends@example.com>"
    _check_structure(msg)
    issue = Path("out/latest/newsletter.html").read_text()
    assert 'src="images/' in issue  # the archived issue keeps its files; only the mail uses cid:


def test_send_refuses_sample_data_unless_allowed_and_mails_each_profile_recipient(smtp: Inbox, tmp_path: Path) -> None:
    upfront = runner.invoke(app, ["newsletter", "--sample", "--send"])
    assert upfront.exit_code == 2 and "SAMPLE DATA" in upfront.output and not smtp.messages
    # no keys: the run falls back to the sample on its own; the issue is written, then refused
    monkey_env = {"AICA_SMTP_RECIPIENTS": "list@example.com"}
    fallback = runner.invoke(app, ["newsletter", "--send", "--sources", "amazon"], env=monkey_env)
    assert fallback.exit_code == 6, fallback.output
    assert "not sent" in fallback.output and "SAMPLE DATA" in fallback.output and not smtp.messages
    assert Path("out/latest/newsletter.json").is_file()
    profile = tmp_path / "team.toml"
    profile.write_text('[send]\nrecipients = ["a@example.com", "b@example.com"]\n')
    allowed = runner.invoke(app, ["newsletter", "--sample", "--send", "--allow-sample", "--profile", str(profile)],
                            env=monkey_env)
    assert allowed.exit_code == 0, allowed.output
    assert [r for r, _ in smtp.messages] == [["a@example.com"], ["b@example.com"]]  # the profile's, one each
    assert [m["To"] for _, m in smtp.messages] == ["a@example.com", "b@example.com"]
    for _, msg in smtp.messages:
        assert not msg["Subject"].startswith("[TEST]")
        _check_structure(msg)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("smtp", ["starttls", "ssl"], indirect=True)
def test_tls_and_login_and_the_password_never_shows(smtp: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = runner.invoke(app, ["newsletter", "--sample", "--send-test", "me@example.com"])
    assert ok.exit_code == 0, ok.output
    assert smtp.logins == ["mailer"] and len(smtp.messages) == 1
    _check_structure(smtp.messages[0][1])
    monkeypatch.setenv("AICA_SMTP_PASSWORD", "wrong-" + PASSWORD)
    bad = runner.invoke(app, ["newsletter", "--sample", "--send-test", "me@example.com"])
    assert bad.exit_code == 6
    assert "refused the login of 'mailer'" in bad.output and "Traceback" not in bad.output
    assert PASSWORD not in bad.output and len(smtp.messages) == 1


def test_unreachable_server_and_missing_settings_are_one_line(refused: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    no_host = runner.invoke(app, ["newsletter", "--sample", "--send-test", "me@example.com"])
    assert no_host.exit_code == 2 and "AICA_SMTP_HOST" in no_host.output
    assert not Path("out").exists()  # checked before any work
    port = refused.url.rsplit(":", 1)[1]
    monkeypatch.setenv("AICA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AICA_SMTP_PORT", port)
    monkeypatch.setenv("AICA_SMTP_FROM", "trends@example.com")
    monkeypatch.setenv("AICA_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("AICA_SMTP_USER", "mailer")
    down = runner.invoke(app, ["newsletter", "--sample", "--send-test", "me@example.com"])
    assert down.exit_code == 6 and f"cannot reach the SMTP server 127.0.0.1:{port}" in down.output
    assert PASSWORD not in down.output and "Traceback" not in down.output
    assert refused.attempts == 1
