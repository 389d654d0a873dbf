"""``lvdun users add|list|revoke``: who may use the web app, and what they may do."""

from __future__ import annotations

import json

import click
from rich.table import Table

from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.users import ROLE_LABELS, Role, add_user, list_users, revoke_user

__all__ = ["users_group"]


@click.group("users")
def users_group() -> None:
    """Users and tokens of the web app (`lvdun serve`): viewers, reserve editors, admins."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="viewer: read all; editor: read and update their reserves; admin: all.")
@click.option("--reserve", "reserves", multiple=True, metavar="CODE",
              help="Reserve code an editor looks after; repeatable.")
@workspace_option
@handle_errors
def add_cmd(name: str, role: str, reserves: tuple[str, ...], workspace: str) -> None:
    """Add a user and print their token, once: only its hash is kept.

    \b
    Example:
      lvdun users add 长白山管理局 --role editor --reserve 220000-CBS
      lvdun users add 省厅 --role viewer
    """
    with open_ws(workspace) as ws:
        user, token = add_user(ws, name, role, reserves=reserves)
    scope = f" for {', '.join(sorted(user.reserves))}" if user.reserves else ""
    console.print(f"added {user.role.value} {user.name}{scope}")
    console.print("token (shown only now; give it to the user, who logs in with it):")
    click.echo(token)


@users_group.command("list")
@workspace_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def list_cmd(workspace: str, fmt: str) -> None:
    """List users with role, reserves and whether they are revoked (never tokens).

    \b
    Example:
      lvdun users list --format json
    """
    with open_ws(workspace) as ws:
        users = list_users(ws)
    if fmt == "json":
        click.echo(json.dumps([u.as_dict() for u in users], ensure_ascii=False, indent=2))
        return
    table = Table(title="用户")
    for col in ("名称", "角色", "保护区", "创建时间", "状态"):
        table.add_column(col)
    for u in users:
        state = f"已吊销 {u.revoked_at}" if u.revoked_at else "有效"
        table.add_row(u.name, f"{u.role.value} ({ROLE_LABELS[u.role]})",
                      ", ".join(sorted(u.reserves)) or "全部", u.created_at or "", state)
    console.print(table)


@users_group.command("revoke")
@click.argument("name")
@workspace_option
@handle_errors
def revoke_cmd(name: str, workspace: str) -> None:
    """Revoke a user's token at once (their history stays).

    \b
    Example:
      lvdun users revoke 长白山管理局
    """
    with open_ws(workspace) as ws:
        user = revoke_user(ws, name)
    console.print(f"revoked {user.name} at {user.revoked_at}")
