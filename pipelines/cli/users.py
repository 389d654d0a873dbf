"""``lvdun users add|list|rotate|revoke``: who may use the web app, and what they may do."""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from layers.i18n import _, local_time
from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.levels import LEVEL_LABELS
from pipelines.users import (
    DEFAULT_EXPIRES_DAYS,
    MAX_EXPIRES_DAYS,
    ROLE_LABELS,
    Role,
    add_user,
    list_users,
    revoke_user,
    rotate_user,
)

__all__ = ["users_group"]


@click.group("users")
def users_group() -> None:
    """Users and tokens of the web app (`lvdun serve`): viewers, reserve editors, admins."""


expires_option = click.option(
    "--expires-days", type=click.IntRange(1, MAX_EXPIRES_DAYS), default=DEFAULT_EXPIRES_DAYS,
    show_default=True, help="Days the token is valid; then `lvdun users rotate NAME`.")


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="viewer: read all; editor: read and update their reserves; reviewer: "
                   "review their area (--level, --area); admin: all.")
@click.option("--reserve", "reserves", multiple=True, metavar="CODE",
              help="Reserve code an editor looks after; repeatable.")
@click.option("--level", type=click.Choice(["county", "city", "province"]),
              help="A reviewer's level (县级, 市级, 省级).")
@click.option("--area", "areas", multiple=True, metavar="ADCODE",
              help="Adcode prefix of a reviewer's area (6, 4 or 2 digits); repeatable.")
@expires_option
@workspace_option
@handle_errors
def add_cmd(name: str, role: str, reserves: tuple[str, ...], level: str | None,
            areas: tuple[str, ...], expires_days: int, workspace: str) -> None:
    """Add a user and print their token, once: only its hash is kept.

    The token expires after --expires-days (180 by default); `lvdun users rotate NAME`
    then gives a new one.

    \b
    Example:
      lvdun users add 长白山管理局 --role editor --reserve 220000-CBS
      lvdun users add 省厅 --role viewer --expires-days 365
      lvdun users add 某市局 --role reviewer --level city --area 2224
    """
    with open_ws(workspace) as ws:
        user, token = add_user(ws, name, role, reserves=reserves, expires_days=expires_days,
                               level=level, areas=areas)
    scope = (_("，范围 {scope}").format(scope=_("，").join(sorted(user.reserves or user.areas)))
             if user.reserves or user.areas else "")
    console.print(escape(_("已添加用户 {name}（{role}）{scope}，令牌有效期至 {until}").format(
        role=_(ROLE_LABELS[user.role]), name=user.name, scope=scope,
        until=local_time(user.expires_at))))
    console.print(_("令牌（只显示这一次；交给用户，用户凭它登录）："))
    click.echo(token)


@users_group.command("rotate")
@click.argument("name")
@expires_option
@workspace_option
@handle_errors
def rotate_cmd(name: str, expires_days: int, workspace: str) -> None:
    """Give a user a new token and print it, once; their old token stops working now.

    For a token that expired (or may have leaked). Users of a workspace made before
    tokens expired count as issued when the workspace was upgraded: 180 days later
    they need a rotation too.

    \b
    Example:
      lvdun users rotate 长白山管理局
      lvdun users rotate 省厅 --expires-days 30
    """
    with open_ws(workspace) as ws:
        user, token = rotate_user(ws, name, expires_days=expires_days)
    console.print(escape(_("已为 {name} 换发新令牌，有效期至 {until}；旧令牌已失效").format(
        name=user.name, until=local_time(user.expires_at))))
    console.print(_("令牌（只显示这一次；交给用户，用户凭它登录）："))
    click.echo(token)


@users_group.command("list")
@workspace_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def list_cmd(workspace: str, fmt: str) -> None:
    """List users with role, reserves, token expiry and whether they are revoked (never
    tokens).

    \b
    Example:
      lvdun users list --format json
    """
    with open_ws(workspace) as ws:
        users = list_users(ws)
    if fmt == "json":
        click.echo(json.dumps([u.as_dict() for u in users], ensure_ascii=False, indent=2))
        return
    table = Table(title=_("用户"))
    for col in ("名称", "角色", "层级", "保护区/辖区", "创建时间", "到期时间", "状态"):
        table.add_column(_(col), overflow="fold")
    for u in users:
        state = (_("已吊销 {at}").format(at=local_time(u.revoked_at)) if u.revoked_at else
                 _("已过期（lvdun users rotate）") if u.expired() else _("有效"))
        table.add_row(escape(u.name), f"{u.role.value} ({_(ROLE_LABELS[u.role])})",
                      _(LEVEL_LABELS[u.level]) if u.level else "",
                      _("，").join(sorted(u.reserves or u.areas)) or _("全部"),
                      local_time(u.created_at), local_time(u.expires_at), state)
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
    console.print(escape(_("已吊销 {name}，时间 {at}").format(name=user.name,
                                                        at=local_time(user.revoked_at))))
