"""Send a written issue by SMTP: the plain-text part and the HTML as multipart/alternative, its pictures inline.

The message is built from the issue folder as `render` wrote it (newsletter.txt, .html, .json, images/), so what
is sent is exactly what was archived. Structure:

    multipart/alternative
    ├── text/plain                    newsletter.txt
    └── multipart/related
        ├── text/html                 newsletter.html, each src="images/…" rewritten to src="cid:…"
        └── image/png (inline, Content-ID) one per picture the HTML shows (charts, thumbnails, placeholder)

One message per recipient (each sees only their own address), over one connection. The password is a SecretStr
and is read only in `send`; errors name the host and what failed, never the password.
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from .config import Settings, secret

IMAGE_SRC = re.compile(r'src="(images/[A-Za-z0-9._-]+)"')
CID_DOMAIN = "ai-content-agents"


class SendError(RuntimeError):
    """Sending failed or is not configured: the message is one line, with no secret in it."""


class InlineImage(BaseModel):
    path: str  # as the HTML refers to it: "images/chart-….png"
    cid: str  # without angle brackets
    data: bytes
    maintype: str = "image"
    subtype: str = "png"


class OutgoingIssue(BaseModel):
    """One written issue, read back from its folder, ready to be mailed."""

    subject: str
    text: str
    html: str  # with cid: references
    images: list[InlineImage] = Field(default_factory=list)
    sample: bool = False
    withheld: int = 0
    unsubscribe_url: str = ""


class SmtpConfig(BaseModel):
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    user: str = ""
    password: SecretStr | None = None
    sender: str
    timeout_s: float = 30.0
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        if not settings.smtp_host:
            raise SendError("sending needs an SMTP server: set AICA_SMTP_HOST (and AICA_SMTP_PORT, AICA_SMTP_USER, "
                            "AICA_SMTP_PASSWORD; see README 'Sending')")
        sender = settings.smtp_from or settings.newsletter_sender
        if not valid_address(sender):
            raise SendError("sending needs a From address: set AICA_SMTP_FROM or AICA_NEWSLETTER_SENDER "
                            "(\"Name <address>\")")
        if settings.smtp_user and settings.smtp_password is None:
            raise SendError("AICA_SMTP_USER is set but AICA_SMTP_PASSWORD is not")
        if settings.smtp_ca_file is not None and not settings.smtp_ca_file.is_file():
            raise SendError(f"AICA_SMTP_CA_FILE {settings.smtp_ca_file} is not a file")
        return cls(host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
                   user=settings.smtp_user, password=settings.smtp_password, sender=sender,
                   timeout_s=settings.smtp_timeout_s, ca_file=settings.smtp_ca_file)


def valid_address(value: str) -> bool:
    """One mailbox ("a@b.c" or "Name <a@b.c>"), with no line breaks (no header injection)."""
    if not value or "\n" in value or "\r" in value:
        return False
    pairs = getaddresses([value])
    return len(pairs) == 1 and re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", pairs[0][1]) is not None


def load_issue(folder: Path) -> OutgoingIssue:
    """Read an issue folder written by `render`; its relative pictures become inline parts."""
    try:
        data = json.loads((folder / "newsletter.json").read_text(encoding="utf-8"))
        text = (folder / "newsletter.txt").read_text(encoding="utf-8")
        html = (folder / "newsletter.html").read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise SendError(f"cannot read the issue in {folder}: {exc}") from None
    images: dict[str, InlineImage] = {}
    for rel in dict.fromkeys(IMAGE_SRC.findall(html)):
        path = folder / rel
        if not path.is_file():
            continue  # a picture the HTML names but the folder lacks: left as is (the reader sees alt text)
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        main, sub = mime.split("/", 1)
        stem = re.sub(r"[^A-Za-z0-9-]", "-", path.stem)[:24] or "image"
        cid = f"{stem}.{secrets.token_hex(4)}@{CID_DOMAIN}"  # short: the header never folds
        images[rel] = InlineImage(path=rel, cid=cid, data=path.read_bytes(), maintype=main, subtype=sub)
    html = IMAGE_SRC.sub(lambda m: f'src="cid:{images[m.group(1)].cid}"' if m.group(1) in images else m.group(0), html)
    return OutgoingIssue(
        subject=str(data.get("title") or "Newsletter"),
        text=text,
        html=html,
        images=list(images.values()),
        sample=bool(data.get("sample")),
        withheld=len(data.get("withheld") or []),
        unsubscribe_url=str(data.get("unsubscribe_url") or ""),
    )


def build_message(issue: OutgoingIssue, sender: str, to: str, *, subject_prefix: str = "") -> EmailMessage:
    """The MIME message for one recipient (pure: no I/O)."""
    msg = EmailMessage()
    msg["Subject"] = " ".join(f"{subject_prefix}{issue.subject}".split())
    msg["From"] = sender
    msg["To"] = to
    msg["Message-ID"] = make_msgid(domain=CID_DOMAIN)
    if issue.unsubscribe_url.startswith(("http://", "https://", "mailto:")):
        msg["List-Unsubscribe"] = f"<{issue.unsubscribe_url}>"
    msg.set_content(issue.text, subtype="plain", charset="utf-8")
    msg.add_alternative(issue.html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)  # add_alternative made it one
    for image in issue.images:
        html_part.add_related(image.data, maintype=image.maintype, subtype=image.subtype, cid=f"<{image.cid}>",
                              disposition="inline", filename=Path(image.path).name)
    return msg


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    """A connection, TLS verified against the system's CAs (or `ca_file`): never an unverified one."""
    if config.security == "ssl":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s, context=_tls(config))
    conn = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
    if config.security == "starttls":
        try:
            conn.starttls(context=_tls(config))
        except BaseException:
            conn.close()
            raise
    return conn


def _tls(config: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)


def send(issue: OutgoingIssue, recipients: list[str], config: SmtpConfig, *, subject_prefix: str = "") -> int:
    """Send `issue` to each recipient over one connection; returns how many were accepted."""
    try:
        return _send(issue, recipients, config, subject_prefix)
    except SendError as exc:
        password = secret(config.password)
        message = str(exc).replace(password, "***") if password else str(exc)  # belt and braces
        raise SendError(message) from None


def _send(issue: OutgoingIssue, recipients: list[str], config: SmtpConfig, subject_prefix: str) -> int:
    if not recipients:
        raise SendError("no recipients: set AICA_SMTP_RECIPIENTS or the profile's [send] recipients")
    bad = [r for r in recipients if not valid_address(r)]
    if bad:
        raise SendError(f"not an email address: {', '.join(bad[:3])}")
    where = f"{config.host}:{config.port}"
    try:
        with _connect(config) as conn:
            if config.user:
                conn.login(config.user, secret(config.password) or "")
            sent = 0
            for to in recipients:
                conn.send_message(build_message(issue, config.sender, to, subject_prefix=subject_prefix))
                sent += 1
            return sent
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"the SMTP server {where} refused the login of {config.user!r} ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise SendError(f"the SMTP server {where} does not offer STARTTLS or login; check AICA_SMTP_SECURITY") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"the SMTP server {where} refused recipient(s) {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"the SMTP server {where} answered {exc.smtp_code}: {_reply(exc.smtp_error)}") from None
    except smtplib.SMTPException as exc:
        raise SendError(f"sending through {where} failed: {type(exc).__name__}") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with {where} failed ({exc.reason or type(exc).__name__}); check AICA_SMTP_SECURITY "
                        "(ssl for port 465, starttls for 587)") from None
    except TimeoutError:
        raise SendError(f"the SMTP server {where} did not answer within {config.timeout_s:g} s") from None
    except OSError as exc:
        raise SendError(f"cannot reach the SMTP server {where}: {exc.strerror or type(exc).__name__}") from None


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:160]


class SendPlan(BaseModel):
    """What `newsletter --send` / `--send-test` will do, checked before any work starts (cli/send.py)."""

    config: SmtpConfig
    recipients: list[str]
    test: bool
    allow_sample: bool
