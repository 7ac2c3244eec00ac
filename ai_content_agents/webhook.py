"""Post a message to a Slack-compatible incoming webhook (Slack, Mattermost, Discord's /slack endpoint, ...).

The URL is the credential (anyone holding it can post), so it is a SecretStr read only here, and no error
message, log line or output ever contains it: failures name the HTTP status or the kind of network error.
"""

from __future__ import annotations

import requests
from pydantic import BaseModel, SecretStr

from .config import secret


class WebhookError(RuntimeError):
    """The post failed; the message is one line without the URL."""


class SlackMessage(BaseModel):
    """An incoming-webhook payload: `text` (mrkdwn) is what every compatible server shows."""

    text: str
    unfurl_links: bool = False


def post(url: SecretStr, message: SlackMessage, *, timeout_s: float = 10.0) -> None:
    target = secret(url) or ""
    if not target.startswith(("https://", "http://")):
        raise WebhookError("the webhook URL must start with https:// (AICA_WATCH_WEBHOOK_URL)")
    try:
        resp = requests.post(target, json=message.model_dump(), timeout=timeout_s, allow_redirects=False)
    except requests.Timeout:
        raise WebhookError(f"the webhook did not answer within {timeout_s:g} s") from None
    except requests.ConnectionError:
        raise WebhookError("could not connect to the webhook (connection refused, no route or no DNS)") from None
    except requests.RequestException as exc:
        raise WebhookError(f"the webhook post failed ({type(exc).__name__})") from None
    if not 200 <= resp.status_code < 300:
        raise WebhookError(f"the webhook answered HTTP {resp.status_code}")
