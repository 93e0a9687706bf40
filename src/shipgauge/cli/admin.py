"""Commands that administer shipgauge: `config` and `tokens`."""

from __future__ import annotations

from typing import Annotated

import typer

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.config import masked_settings
from shipgauge.store.tokens import SCOPES, create_token, list_tokens, revoke_token

__all__ = ["register"]

tokens_app = App(help="API tokens: create (shown once), list, revoke.")


def config(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective settings, secrets masked."""
    settings = masked_settings(state(ctx).settings)
    if as_json:
        print_json(settings)
    else:
        rows = [
            (k, f"SHIPGAUGE_{k.upper()}", "" if v is None else str(v)) for k, v in settings.items()
        ]
        print_rows(["setting", "env var", "value"], rows)


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    service: Annotated[
        str, typer.Option(help="Service (repository) the token may write for; * for all.")
    ],
    scope: Annotated[list[str], typer.Option(help=f"Scope, repeatable: {', '.join(SCOPES)}.")],
) -> None:
    """Create a token and print it once; only its hash is stored."""
    token = create_token(state(ctx).store, service=service, scopes=scope)
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List tokens (never their secrets)."""
    tokens = list_tokens(state(ctx).store)
    rows = [(t.token_id, t.service, ",".join(t.scopes), t.created_at, t.revoked_at) for t in tokens]
    columns = ["token_id", "service", "scopes", "created_at", "revoked_at"]
    if as_json:
        print_json([dict(zip(columns, r, strict=True)) for r in rows])
    else:
        print_rows(columns, rows, title="tokens")


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="The token's id.")]
) -> None:
    """Revoke a token; requests carrying it get 401 from now on."""
    revoke_token(state(ctx).store, token_id)
    console.print(f"revoked {token_id}")


def register(app: typer.Typer) -> None:
    app.command()(config)
    app.add_typer(tokens_app, name="tokens")
