"""``sequencer token create|list|revoke``: the bearer tokens of the HTTP API and web app."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from sequencer.errors import InputError
from sequencer.services.api_tokens import (
    DEFAULT_RATE_PER_MINUTE,
    SCOPES,
    create_token,
    list_tokens,
    revoke_token,
)
from sequencer.services.app import bootstrap


@click.group("token")
def token_group() -> None:
    """API tokens: read < write < admin."""


@token_group.command("create")
@click.argument("name")
@click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True,
              help="read: look; write: also enroll, record, complete tasks; admin: everything.")
@click.option("--owner", help="The rep this token signs in as (their tasks, their day).")
@click.option("--rate", "rate_per_minute", type=click.IntRange(min=1),
              default=DEFAULT_RATE_PER_MINUTE, show_default=True, help="Requests a minute.")
def token_create(name: str, scope: str, owner: str | None, rate_per_minute: int) -> None:
    """Make a token; its secret is printed once and never stored."""
    app = bootstrap()
    try:
        info, raw = create_token(app, name, scope=scope, owner=owner,
                                 rate_per_minute=rate_per_minute)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(raw)
    click.echo(f"token #{info.id} {info.name!r} ({info.scope}, {info.rate_per_minute}/min): "
               "keep it now, it is not shown again", err=True)


@token_group.command("list")
def token_list() -> None:
    """Every token, without its secret."""
    app = bootstrap()
    try:
        tokens = list_tokens(app)
    finally:
        app.close()
    table = Table("id", "name", "scope", "owner", "rate/min", "created", "last used", "state")
    for info in tokens:
        table.add_row(str(info.id), info.name, info.scope, info.owner or "",
                      str(info.rate_per_minute), f"{info.created_at:%Y-%m-%d %H:%M}",
                      f"{info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never",
                      "revoked" if info.revoked_at else "active")
    Console().print(table)


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Stop a token (within 30 seconds on running API processes)."""
    app = bootstrap()
    try:
        info = revoke_token(app, token_id)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(f"token #{info.id} {info.name!r} revoked")
