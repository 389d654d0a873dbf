"""Users, tokens and rights: who may read and change which leads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.errors import AuthError, NotFoundError, PermissionDeniedError, UserError
from pipelines.rights import (
    can_edit,
    can_read,
    editable_reserves,
    lead_reserve,
    readable_reserves,
    require_admin,
    require_edit,
    require_read,
)
from pipelines.store import Workspace, open_workspace
from pipelines.store.tables import SCHEMA_VERSION, VERSION_TABLE
from pipelines.users import (
    DEFAULT_EXPIRES_DAYS,
    TOKEN_PREFIX,
    Role,
    User,
    add_user,
    authenticate,
    get_user,
    list_users,
    revoke_user,
    rotate_user,
)
from tests.pipelines.store.conftest import (  # noqa: F401 - fixtures of both stores
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)

VIEWER = User("省厅", Role.VIEWER)
EDITOR = User("甲管理局", Role.EDITOR, frozenset({"R01"}))
ADMIN = User("管理员", Role.ADMIN)
IN_R01 = {"lead_id": "L001", "reserve_code": "R01"}
IN_R02 = {"lead_id": "L004", "reserve_code": "R02"}
OUTSIDE = {"lead_id": "L005", "reserve_code": None}


def test_token_is_shown_once_and_stored_only_as_its_sha256(classified):
    user, token = add_user(classified, "甲管理局", "editor", reserves=["R01"])
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    rows = classified.read_table("users")
    assert rows["name"].tolist() == ["甲管理局"]
    stored = rows["token_hash"].iloc[0]
    assert stored == "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    assert token not in rows.to_json(force_ascii=False)
    assert json.loads(rows["reserves"].iloc[0]) == ["R01"]
    assert user == get_user(classified, "甲管理局")
    assert authenticate(classified, token) == user


def test_two_users_get_different_tokens(classified):
    _, first = add_user(classified, "a", "viewer")
    _, second = add_user(classified, "b", "viewer")
    assert first != second
    assert authenticate(classified, second).name == "b"


@pytest.mark.parametrize("token", [None, "", "   ", "lvd_not-a-token", "Bearer x"])
def test_missing_or_unknown_tokens_are_refused(classified, token):
    add_user(classified, "a", "viewer")
    with pytest.raises(AuthError, match="token"):
        authenticate(classified, token)


def test_revoked_token_is_refused_and_the_name_can_get_a_new_one(classified):
    _, old = add_user(classified, "a", "viewer")
    revoked = revoke_user(classified, "a")
    assert revoked.revoked_at and not revoked.active
    with pytest.raises(AuthError, match="revoked"):
        authenticate(classified, old)
    with pytest.raises(UserError, match="already revoked"):
        revoke_user(classified, "a")
    user, new = add_user(classified, "a", "admin")
    assert authenticate(classified, new) == user and user.role is Role.ADMIN
    with pytest.raises(AuthError):
        authenticate(classified, old)


@pytest.mark.parametrize(
    ("name", "role", "reserves", "match"),
    [
        ("x", "editor", [], "--reserve"),
        ("x", "viewer", ["R01"], "only editors have reserves"),
        ("x", "admin", ["R01"], "only editors have reserves"),
        ("x", "owner", [], "unknown role 'owner'; use one of viewer, editor, reviewer, admin"),
        ("x", "editor", ["R01", "R09"], r"unknown reserve code.*R09.*R01, R02"),
        ("  ", "viewer", [], "needs a name"),
        ("a\tb", "viewer", [], "control characters"),
        ("x" * 65, "viewer", [], "longer than 64"),
    ],
)
def test_bad_users_are_refused_with_a_hint(classified, name, role, reserves, match):
    with pytest.raises(UserError, match=match):
        add_user(classified, name, role, reserves=reserves)
    assert list_users(classified) == []


def test_a_taken_name_is_refused(classified):
    add_user(classified, "a", "viewer")
    with pytest.raises(UserError, match=r"exists.*revoke"):
        add_user(classified, "a", "admin")


def test_unknown_users_are_not_found(classified):
    with pytest.raises(NotFoundError, match="no user"):
        revoke_user(classified, "nobody")


def test_list_users_sorted_with_revoked_ones(classified):
    add_user(classified, "b", "viewer")
    add_user(classified, "a", "editor", reserves=["R02", "R01"])
    revoke_user(classified, "b")
    users = list_users(classified)
    assert [(u.name, u.active) for u in users] == [("a", True), ("b", False)]
    assert users[0].as_dict()["reserves"] == ["R01", "R02"]
    assert [u.name for u in list_users(classified, include_revoked=False)] == ["a"]


@pytest.mark.parametrize(
    ("user", "lead", "read", "edit"),
    [
        (VIEWER, IN_R01, True, False),
        (VIEWER, OUTSIDE, True, False),
        (EDITOR, IN_R01, True, True),
        (EDITOR, IN_R02, False, False),
        (EDITOR, OUTSIDE, False, False),
        (ADMIN, IN_R02, True, True),
        (ADMIN, OUTSIDE, True, True),
    ],
)
def test_rights_matrix(user, lead, read, edit):
    assert can_read(user, lead) is read
    assert can_edit(user, lead) is edit
    if not read:
        with pytest.raises(PermissionDeniedError, match="may only read"):
            require_read(user, lead)
    if not edit:
        with pytest.raises(PermissionDeniedError, match=r"viewer|may only change"):
            require_edit(user, lead)


def test_reserve_sets_of_each_role():
    assert readable_reserves(VIEWER) is None and editable_reserves(VIEWER) == frozenset()
    assert readable_reserves(EDITOR) == editable_reserves(EDITOR) == {"R01"}
    assert readable_reserves(ADMIN) is None and editable_reserves(ADMIN) is None
    require_admin(ADMIN)
    for user in (VIEWER, EDITOR):
        with pytest.raises(PermissionDeniedError, match="not an admin"):
            require_admin(user)


def test_a_lead_belongs_to_the_reserve_it_was_classified_in(classified):
    assert lead_reserve(classified, "L001") == "R01"
    assert lead_reserve(classified, "L004") == "R02"
    assert lead_reserve(classified, "L005") is None
    with pytest.raises(NotFoundError):
        lead_reserve(classified, "L999")


def test_cli_add_prints_the_token_once_list_and_revoke(classified):
    runner = CliRunner()
    ws = ["-w", classified.location]
    result = runner.invoke(cli, ["users", "add", "甲管理局", "--role", "editor",
                                 "--reserve", "R01", *ws])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith(TOKEN_PREFIX)
    assert authenticate(classified, token).reserves == {"R01"}

    listed = runner.invoke(cli, ["users", "list", "--format", "json", *ws])
    assert listed.exit_code == 0
    assert json.loads(listed.output)[0]["reserves"] == ["R01"]
    assert token not in listed.output
    table = runner.invoke(cli, ["users", "list", *ws])
    assert "甲管理局" in table.output and "R01" in table.output

    assert runner.invoke(cli, ["users", "revoke", "甲管理局", *ws]).exit_code == 0
    with pytest.raises(AuthError):
        authenticate(classified, token)


def test_cli_errors_exit_1_with_the_message(classified):
    runner = CliRunner()
    result = runner.invoke(cli, ["users", "add", "x", "--role", "editor",
                                 "-w", classified.location])
    assert result.exit_code == 1
    assert "--reserve" in result.output


# -- token expiry ---------------------------------------------------------------------------
def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _expire(ws: Workspace, name: str, days_ago: int = 1) -> None:
    past = (datetime.now(UTC) - timedelta(days=days_ago)).replace(microsecond=0).isoformat()
    ws.execute('UPDATE "users" SET "expires_at" = ? WHERE "name" = ?', [past, name])


def test_tokens_expire_180_days_after_they_are_issued(any_workspace):  # noqa: F811
    user, token = add_user(any_workspace, "省厅", "viewer")
    assert _at(user.expires_at) - _at(user.created_at) == timedelta(days=DEFAULT_EXPIRES_DAYS)
    assert get_user(any_workspace, "省厅").expires_at == user.expires_at
    assert authenticate(any_workspace, token) == user and not user.expired()
    assert user.as_dict()["expires_at"] == user.expires_at
    short, _ = add_user(any_workspace, "短期", "admin", expires_days=7)
    assert _at(short.expires_at) - _at(short.created_at) == timedelta(days=7)


def test_an_expired_token_is_refused_saying_how_to_get_a_new_one(any_workspace):  # noqa: F811
    _, token = add_user(any_workspace, "甲站", "viewer")
    _expire(any_workspace, "甲站")
    with pytest.raises(AuthError, match=r"expired.*`lvdun users rotate 甲站`"):
        authenticate(any_workspace, token)
    assert get_user(any_workspace, "甲站").expired()


def test_rotate_gives_a_new_token_and_the_old_one_stops_at_once(any_workspace):  # noqa: F811
    _, old = add_user(any_workspace, "甲站", "viewer")
    user, new = rotate_user(any_workspace, "甲站", expires_days=30)
    assert new != old and new.startswith(TOKEN_PREFIX)
    with pytest.raises(AuthError, match="unknown or was revoked"):
        authenticate(any_workspace, old)
    assert authenticate(any_workspace, new) == user
    assert _at(user.expires_at) - datetime.now(UTC) > timedelta(days=29, hours=23)
    stored = any_workspace.read_table("users")
    assert stored["token_hash"].tolist() == ["sha256:" + hashlib.sha256(new.encode()).hexdigest()]
    assert new not in stored.to_json(force_ascii=False)
    _expire(any_workspace, "甲站")  # an expired token is what rotate is for
    again, newest = rotate_user(any_workspace, "甲站")
    assert authenticate(any_workspace, newest).name == "甲站" and not again.expired()
    with pytest.raises(AuthError):
        authenticate(any_workspace, new)


def test_rotate_refuses_revoked_and_unknown_users(any_workspace):  # noqa: F811
    _, token = add_user(any_workspace, "甲站", "viewer")
    revoke_user(any_workspace, "甲站")
    with pytest.raises(UserError, match=r"revoked.*lvdun users add 甲站 --role viewer"):
        rotate_user(any_workspace, "甲站")
    with pytest.raises(AuthError):
        authenticate(any_workspace, token)
    with pytest.raises(NotFoundError, match="no user"):
        rotate_user(any_workspace, "nobody")


@pytest.mark.parametrize("days", [0, -1, 3651, 10**9, 1.5, True])
def test_bad_validities_are_refused(classified, days):
    with pytest.raises(UserError, match="--expires-days"):
        add_user(classified, "a", "viewer", expires_days=days)
    add_user(classified, "b", "viewer")
    with pytest.raises(UserError, match="--expires-days"):
        rotate_user(classified, "b", expires_days=days)
    assert [u.name for u in list_users(classified)] == ["b"]


def _reopen(ws: Workspace) -> Workspace:
    again = open_workspace(getattr(ws, "url", None) or ws.path)
    again.open()
    return again


def test_users_of_an_older_workspace_expire_180_days_after_the_upgrade(any_workspace):  # noqa: F811
    _, token = add_user(any_workspace, "老用户", "admin")
    with any_workspace.transaction():  # the workspace as lvdun 0.1 (schema version 1) left it
        any_workspace.execute('ALTER TABLE "users" DROP COLUMN "expires_at"')
        any_workspace.execute(f'DELETE FROM "{VERSION_TABLE}"')
        any_workspace.execute(f'INSERT INTO "{VERSION_TABLE}" (version, lvdun, upgraded_at) '
                              "VALUES (1, '0.1.0', '2020-01-01T00:00:00+00:00')")
        any_workspace.execute('UPDATE "users" SET "created_at" = ?',
                              ["2020-01-01T00:00:00+00:00"])
    any_workspace.close()
    ws = _reopen(any_workspace)
    try:
        assert ws.schema_version() == SCHEMA_VERSION
        upgraded = ws.query(f'SELECT upgraded_at FROM "{VERSION_TABLE}" '
                            f"WHERE version = {SCHEMA_VERSION}")["upgraded_at"].iloc[0]
        assert ws.read_table("users")["expires_at"].isna().all()  # nothing was made up
        user = authenticate(ws, token)  # created in 2020, but counted from the upgrade
        assert user.expires_at == (_at(upgraded) + timedelta(days=180)).isoformat()
        assert get_user(ws, "老用户").expires_at == user.expires_at
        ws.execute(f'UPDATE "{VERSION_TABLE}" SET upgraded_at = ? WHERE version = ?',
                   [(datetime.now(UTC) - timedelta(days=181)).isoformat(), SCHEMA_VERSION])
        with pytest.raises(AuthError, match="lvdun users rotate 老用户"):
            authenticate(ws, token)
        _, new = rotate_user(ws, "老用户")
        assert authenticate(ws, new).name == "老用户"
    finally:
        ws.close()


def test_cli_add_with_expiry_rotate_and_list(classified):
    runner = CliRunner()
    ws = ["-w", classified.location]
    added = runner.invoke(cli, ["users", "add", "省厅", "--role", "viewer",
                                "--expires-days", "30", *ws])
    assert added.exit_code == 0, added.output
    old = added.output.strip().splitlines()[-1]
    assert "令牌有效期至" in added.output
    user = authenticate(classified, old)
    assert _at(user.expires_at) - _at(user.created_at) == timedelta(days=30)
    _expire(classified, "省厅")
    table = runner.invoke(cli, ["users", "list", *ws])
    assert "已过期" in table.output and "到期时间" in table.output
    rotated = runner.invoke(cli, ["users", "rotate", "省厅", "--expires-days", "10", *ws])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.strip().splitlines()[-1]
    assert new.startswith(TOKEN_PREFIX) and new != old
    assert _at(authenticate(classified, new).expires_at) - datetime.now(UTC) > timedelta(days=9)
    with pytest.raises(AuthError):
        authenticate(classified, old)
    listed = json.loads(runner.invoke(cli, ["users", "list", "--format", "json", *ws]).output)
    assert listed[0]["expires_at"] == authenticate(classified, new).expires_at
    assert new not in runner.invoke(cli, ["users", "list", *ws]).output
    bad = runner.invoke(cli, ["users", "rotate", "省厅", "--expires-days", "0", *ws])
    assert bad.exit_code == 2 and "--expires-days" in bad.output
    unknown = runner.invoke(cli, ["users", "rotate", "nobody", *ws])
    assert unknown.exit_code == 1 and "no user" in unknown.output
