"""Administrators' commands: `geoservice keys …`, `users …`, `backup`, `restore`, `audit export`.

Every change is written to the audit trail with the actor `cli:<system user>` and the
address `local`. Passwords are read from a hidden prompt (asked twice) or, with
--password-stdin, from the first line of standard input; there is never a default password.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from geoservice import services
from geoservice.cli.options import output_option
from geoservice.errors import GeoserviceError

ROLE_CHOICE = click.Choice(["viewer", "editor", "admin"])


def cli_actor() -> str:
    """The audit actor of a command-line change."""
    return f"cli:{getpass.getuser()}"


def record_change(action: str, target: str | None, detail: dict | None = None) -> None:
    """Write a command-line change to the audit trail."""
    from geoservice import audit

    audit.record(services.current().store, action, cli_actor(), target, detail or {}, "local")


def _fail(error: GeoserviceError) -> None:
    click.echo(error.message, err=True)
    sys.exit(2)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            click.echo("no password on standard input", err=True)
            sys.exit(2)
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


# --- API keys -------------------------------------------------------------------------------

@click.group("keys")
def keys() -> None:
    """API keys for other systems and editors (shown once, stored hashed)."""


@keys.command("create")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, default="viewer", show_default=True)
@click.option("--area", default="national", show_default=True,
              help="'national' or a two-digit province code.")
@click.option("--layers", default=None,
              help="Comma-separated layer ids the key may use (default: every layer).")
@with_appcontext
def keys_create(name: str, role: str, area: str, layers: str | None) -> None:
    """Create a key for NAME (a system or person) and print it once."""
    from geoservice.auth import create_key
    from geoservice.collections import COLLECTIONS

    current = services.current()
    store = current.store
    if area != "national" and store.get("provinces", area) is None:
        click.echo(f"area must be 'national' or the code of a province in the store, "
                   f"not {area!r}", err=True)
        sys.exit(2)
    scope = [i.strip() for i in layers.split(",") if i.strip()] if layers else None
    try:
        row, key = create_key(store, name, role, area, created_by=cli_actor(), layers=scope,
                              known_layers=[*current.catalog, *COLLECTIONS])
    except GeoserviceError as error:
        _fail(error)
    record_change("key_create", row["id"], {"name": row["name"], "role": role, "area": area,
                                            "layers": row["layers"]})
    click.echo(f"key {row['id']} for {row['name']} ({role}, {area}); keep it now, it is not "
               f"shown again:\n{key}")


@keys.command("list")
@with_appcontext
def keys_list() -> None:
    """List the keys (never their secrets)."""
    for row in services.current().store.api_keys():
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(f"{row['id']}  {row['name']}  {row['role']}  "
                   f"{row['province_code'] or 'national'}  created {row['created_at']}  {state}")


@keys.command("revoke")
@click.argument("key_id")
@with_appcontext
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after gsk_ and before the dot)."""
    if not services.current().store.revoke_api_key(key_id):
        click.echo(f"no active key {key_id}", err=True)
        sys.exit(1)
    record_change("key_revoke", key_id)
    click.echo(f"key {key_id} revoked")


# --- users ----------------------------------------------------------------------------------

@click.group("users")
def users_group() -> None:
    """People who sign in: create, disable, enable, set-role, set-password, list."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--area", default="national", show_default=True,
              help="'national' or a two-digit province code (administrators are national).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_create(username: str, role: str, area: str, password_stdin: bool) -> None:
    """Create a user (the first administrator is created this way)."""
    from geoservice import users

    password = _password(password_stdin)
    try:
        user = users.create_user(services.current().store, username, password, role, area,
                                 cli_actor())
    except GeoserviceError as error:
        _fail(error)
    record_change("user_create", user["username"], {"role": role, "area": user["area"]})
    click.echo(f"user {user['username']} created ({role}, {user['area']})")


def _change(action: str, change, detail: dict) -> None:
    """Apply `change(store)` to a user, record it and show the user as they are now."""
    try:
        user = change(services.current().store)
    except GeoserviceError as error:
        _fail(error)
    record_change(action, user["username"], detail)
    state = "enabled" if user["enabled"] else "disabled"
    click.echo(f"user {user['username']}: {user['role']}, {user['area']}, {state}")


@users_group.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Disable a user: they cannot sign in, and their sessions end at once."""
    from geoservice import users

    _change("user_disable", lambda store: users.set_enabled(store, username, False), {})


@users_group.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Enable a disabled (or locked) user again."""
    from geoservice import users

    _change("user_enable", lambda store: users.set_enabled(store, username, True), {})


@users_group.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--area", default="national", show_default=True,
              help="'national' or a two-digit province code.")
@with_appcontext
def users_set_role(username: str, role: str, area: str) -> None:
    """Change a user's role and area (their sessions end)."""
    from geoservice import users

    _change("user_set_role", lambda store: users.set_role(store, username, role, area),
            {"role": role, "area": area})


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_set_password(username: str, password_stdin: bool) -> None:
    """Give a user a new password (their sessions end)."""
    from geoservice import users

    password = _password(password_stdin)
    _change("user_set_password", lambda store: users.set_password(store, username, password),
            {})


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List the users (never their passwords)."""
    from geoservice import users

    for user in map(users.public, services.current().store.list_users()):
        state = "enabled" if user["enabled"] else "disabled"
        locked = f"  locked until {user['locked_until']}" if user["locked_until"] else ""
        click.echo(f"{user['username']}  {user['role']}  {user['area']}  {state}{locked}")


# --- the store and the audit trail ----------------------------------------------------------

@click.command("backup")
@output_option("The backup file to write.", positional=True)
@with_appcontext
def backup_command(output: Path) -> None:
    """Copy the embedded store into a file (-o) while the service keeps running."""
    from geoservice.store.backup import backup

    with click.progressbar(length=1, label="backup (database pages)") as bar:
        def progress(copied: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(copied - bar.pos)

        try:
            counts = backup(services.current().store, output, progress)
        except GeoserviceError as error:
            _fail(error)
    record_change("backup", str(output), counts)
    click.echo(f"backup written to {output}: {counts}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the embedded store with a backup (validated first; all or nothing)."""
    from geoservice.store.backup import restore, validate

    try:
        counts = validate(source)
    except GeoserviceError as error:
        _fail(error)
    if not yes:
        click.confirm(f"Replace the store with {source} ({counts})?", abort=True)
    try:
        counts = restore(services.current().store, source)
    except GeoserviceError as error:
        _fail(error)
    record_change("restore", str(source), counts)
    click.echo(f"store restored from {source}: {counts}")


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@output_option("File to write (default: standard output).", required=False)
@click.option("--action", default=None, help="Only this action.")
@click.option("--since", default=None, help="From this date (YYYY-MM-DD), inclusive.")
@click.option("--until", default=None, help="Before this date (YYYY-MM-DD).")
@with_appcontext
def audit_export(fmt: str, output: Path | None, action, since, until) -> None:
    """Export the audit trail as CSV (formulas neutralised) or JSON."""
    from geoservice import audit

    args = {k: v for k, v in (("action", action), ("since", since), ("until", until)) if v}
    try:
        rows = audit.rows_for_export(services.current().store, audit.parse_query(args))
    except GeoserviceError as error:
        _fail(error)
    body = audit.to_csv(rows) if fmt == "csv" else audit.to_json(rows)
    record_change("audit_export", fmt, {"rows": len(rows), **args})
    if output is None:
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
        click.echo(f"{len(rows)} audit rows written to {output}", err=True)


COMMANDS = (keys, users_group, backup_command, restore_command, audit_group)
