"""`newsletter --send` / `--send-test ADDRESS`: mail the issue just written (see mailer.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from .common import console, err_console, fail

if TYPE_CHECKING:  # the mailer loads when an issue is sent, never for `--help`
    from ..config import Settings
    from ..mailer import SendPlan

EXIT_NOT_SENT = 6  # the issue was written, but it was not sent (refused as SAMPLE DATA, withheld sections, SMTP error)

SendOpt = Annotated[
    bool, typer.Option("--send", help="Mail the issue to AICA_SMTP_RECIPIENTS (or the profile's recipients).")
]
SendTestOpt = Annotated[
    str | None,
    typer.Option("--send-test", metavar="ADDRESS", help="Mail the issue to this one address only, subject marked [TEST]."),
]
AllowSampleOpt = Annotated[
    bool, typer.Option("--allow-sample", help="Let --send mail an issue built from SAMPLE DATA (refused otherwise).")
]


def plan(settings: Settings, send: bool, send_test: str | None, allow_sample: bool, sample: bool) -> SendPlan | None:
    """Check the sending options before any work is done; None when nothing is to be sent."""
    from .. import mailer
    from ..mailer import SendPlan

    if not send and send_test is None:
        if allow_sample:
            raise fail("--allow-sample only matters with --send.")
        return None
    if send and send_test is not None:
        raise fail("--send and --send-test contradict each other; pick one.")
    if send and sample and not allow_sample:
        raise fail("--send refuses an issue built from SAMPLE DATA; use --send-test ADDRESS to try it, "
                   "or add --allow-sample.")
    recipients = [send_test] if send_test is not None else list(settings.smtp_recipients)
    if send_test is not None and not mailer.valid_address(send_test):
        raise fail(f"--send-test needs one email address, not {send_test!r}.")
    if not recipients:
        raise fail("--send has no recipients: set AICA_SMTP_RECIPIENTS or the profile's [send] recipients.")
    try:
        config = mailer.SmtpConfig.from_settings(settings)
    except mailer.SendError as exc:
        raise fail(str(exc)) from None
    return SendPlan(config=config, recipients=recipients, test=send_test is not None, allow_sample=allow_sample)


def deliver(send_plan: SendPlan, folder: Path) -> int:
    """Mail the issue in `folder`; returns 0, or EXIT_NOT_SENT after one clear line saying why not."""
    from .. import mailer

    try:
        issue = mailer.load_issue(folder)
    except mailer.SendError as exc:
        err_console.print(f"[bold red]not sent:[/] {escape(str(exc))}")
        return EXIT_NOT_SENT
    if not send_plan.test:
        if issue.sample and not send_plan.allow_sample:
            err_console.print("[bold red]not sent:[/] this issue is SAMPLE DATA (no live source produced data); "
                              "--send refuses it unless --allow-sample. The issue was written.")
            return EXIT_NOT_SENT
        if issue.withheld:
            err_console.print(f"[bold red]not sent:[/] {issue.withheld} section(s) were withheld; fix and run again, "
                              "or check it with --send-test ADDRESS. The issue was written.")
            return EXIT_NOT_SENT
    try:
        sent = mailer.send(issue, send_plan.recipients, send_plan.config, subject_prefix="[TEST] " if send_plan.test else "")
    except mailer.SendError as exc:
        err_console.print(f"[bold red]not sent:[/] {escape(str(exc))}. The issue was written.", soft_wrap=True)
        return EXIT_NOT_SENT
    what = "test issue" if send_plan.test else "issue"
    images = len(issue.images)
    console.print(f"Sent the {what} to {sent} recipient(s) through {escape(send_plan.config.host)} "
                  f"({images} inline image(s)){' — SAMPLE DATA' if issue.sample else ''}.")
    return 0
