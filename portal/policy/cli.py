"""The ``policy`` and ``notices`` command groups of REFERENCE.md (``flask policy announce``,
``flask notices post``). Thin: parse, call one service, commit, print; a refusal is worded by
:func:`~portal.policy.messages.message_for`, the same words as anywhere else.

Every command exits non-zero with a one-line reason on bad input; ``--json`` prints one JSON
object on stdout. ``portal.cli`` registers the groups through :func:`register`.
"""

from __future__ import annotations

import json
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from portal.cli_support import fail, read_body
from portal.extensions import db
from portal.policy.errors import LabelTaken, PolicyError
from portal.policy.messages import message_for
from portal.policy.notices import PINNED_INDEFINITELY, post_notice
from portal.policy.versions import DOCUMENTS, PRIVACY, announce_revision, announcement_notice

policy_cli = AppGroup("policy", help="Privacy-policy revisions (개인정보 처리방침).")
notices_cli = AppGroup("notices", help="Notices board (공지사항).")


def register(app: Flask) -> None:
    """Add the ``policy`` and ``notices`` command groups to ``app``."""
    app.cli.add_command(policy_cli)
    app.cli.add_command(notices_cli)


def _parse_date(value: str | None, option: str) -> date | None:
    """An ISO date option (absent: None); fails with one line if malformed."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not a date (YYYY-MM-DD): {value!r}")


@policy_cli.command("announce")
@click.option("--label", required=True, help="Version label, e.g. 2026-12-15.")
@click.option("--title", required=True)
@click.option("--body", "body_path", required=True, help="Markdown file of the full text.")
@click.option("--effective", required=True, help="Effective date (KST), YYYY-MM-DD.")
@click.option("--announce", "announce", help="Announcement date (KST), default today.")
@click.option("--material", is_flag=True, help="A material change: 30 days' notice.")
@click.option("--author", default="", help="Who announces it (recorded with the version).")
@click.option(
    "--document",
    type=click.Choice(DOCUMENTS),
    default=PRIVACY,
    show_default=True,
    help="Which document: the privacy policy or the terms of use (이용약관).",
)
@click.option("--json", "as_json", is_flag=True)
def policy_announce(
    label: str,
    title: str,
    body_path: str,
    effective: str,
    announce: str | None,
    material: bool,
    author: str,
    document: str,
    as_json: bool,
) -> None:
    """Schedule a revision of the policy (or, with --document terms, of the terms of use)
    and publish its pinned announcement notice."""
    body = read_body(body_path)
    effective_on = _parse_date(effective, "--effective")
    announced_on = _parse_date(announce, "--announce")
    try:
        version = announce_revision(
            label=label,
            title=title,
            body_md=body,
            effective_on=effective_on,
            announced_on=announced_on,
            material=material,
            author=author,
            document=document,
        )
        notice_id = announcement_notice(version).id
        db.session.commit()
    except PolicyError as exc:
        fail(message_for(exc))
    except IntegrityError:
        # Another announcement took the label between our check and the commit.
        fail(message_for(LabelTaken(label)))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "document": version.document,
                    "label": version.label,
                    "announced_on": version.announced_on.isoformat(),
                    "effective_on": version.effective_on.isoformat(),
                    "notice_id": notice_id,
                }
            )
        )
        return
    click.echo(
        f"공고했습니다 / announced: {version.label} "
        f"(공고 {version.announced_on}, 시행 {version.effective_on}); notice #{notice_id}"
    )


@notices_cli.command("post")
@click.option("--title", required=True)
@click.option("--body", "body_path", required=True, help="Markdown file.")
@click.option("--pinned", is_flag=True, help="Pin to the top of the board.")
@click.option("--pinned-until", help="Pinned until this KST date (default: until unpinned).")
@click.option("--popup", is_flag=True, help="Also show as a popup on the home page.")
@click.option("--popup-until", help="Last KST day of the popup (default: no end).")
@click.option("--author", default="")
@click.option("--json", "as_json", is_flag=True)
def notices_post(
    title: str,
    body_path: str,
    pinned: bool,
    pinned_until: str | None,
    popup: bool,
    popup_until: str | None,
    author: str,
    as_json: bool,
) -> None:
    """Post a notice on the board."""
    body = read_body(body_path)
    pin_date = _parse_date(pinned_until, "--pinned-until")
    if pinned and pin_date is None:
        pin_date = PINNED_INDEFINITELY
    try:
        notice = post_notice(
            title=title,
            body_md=body,
            pinned_until=pin_date,
            popup=popup,
            popup_until=_parse_date(popup_until, "--popup-until"),
            author=author,
        )
        db.session.commit()
    except PolicyError as exc:
        fail(message_for(exc))
    if as_json:
        click.echo(json.dumps({"notice_id": notice.id}))
        return
    click.echo(f"게시했습니다 / posted: notice #{notice.id} {notice.title}")
