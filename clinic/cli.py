"""Command-line tasks: first administrator, audit-chain check, demo data."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from clinic import audit
from clinic.auth.passwords import hash_password
from clinic.auth.policy import password_problem, username_problem
from clinic.auth.services import normalise_username
from clinic.extensions import db
from clinic.models import User
from clinic.models.user import ROLES


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(verify_audit)
    app.cli.add_command(audit_baseline)
    app.cli.add_command(grant_app_role)
    app.cli.add_command(seed_demo)


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--display-name", prompt="Full name")
@click.option("--role", type=click.Choice(sorted(ROLES)), default="admin", show_default=True)
@click.password_option(confirmation_prompt=True)
def create_user(username: str, display_name: str, role: str, password: str) -> None:
    """Create a user account (the first administrator, typically)."""
    name = normalise_username(username)
    if (problem := username_problem(name)) is not None:
        raise click.ClickException(f"user name {username!r} refused: {problem}")
    if (problem := password_problem(password, username=name)) is not None:
        raise click.ClickException(f"password refused: {problem}")
    if db.session.scalar(select(User).where(User.username == name)) is not None:
        raise click.ClickException(f"a user named {name!r} already exists")
    user = User(
        username=name, display_name=display_name.strip(), role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "create", object_type="user", object_id=user.id,
        username="(command line)", detail={"username": name, "role": role, "via": "create-user"},
    )
    db.session.commit()
    click.echo(f"Created {ROLES[role].lower()} {name!r}.")


#: Rows named by a failed verify-audit; the count says how many more there are.
MAX_ROWS_NAMED = 50


@click.command("verify-audit")
@click.option(
    "--anchor", "anchor_path", type=click.Path(dir_okay=False),
    help="File (kept off the database server) holding the head verified last time: fail if the "
    "chain no longer holds it, then write the new head there.",
)
def verify_audit(anchor_path: str | None) -> None:
    """Recompute the audit HMAC chain and the clinical rows' hashes; name what does not match."""
    from clinic import audit_anchor, content_hash

    _one_snapshot()
    earlier = None
    if anchor_path:
        try:
            earlier = audit_anchor.read_head(anchor_path)
        except audit_anchor.AnchorError as error:
            raise click.ClickException(str(error)) from None
    recorded: dict[tuple[str, int], str] = {}
    report = audit.verify_chain(content_hashes=recorded)
    if not report.ok:
        raise click.ClickException(
            f"audit chain broken at event id {report.first_broken_id}: {report.problem} "
            f"({report.rows_checked} events before it are intact)"
        )
    content = content_hash.verify(recorded)
    if not content.ok:
        shown = content.mismatches[:MAX_ROWS_NAMED]
        more = len(content.mismatches) - len(shown)
        raise click.ClickException(
            f"{len(content.mismatches)} of {content.rows_checked} clinical rows do not match "
            "their creation events:\n" + "\n".join(f"  {m}" for m in shown)
            + (f"\n  … and {more} more" if more else "")
        )
    if earlier is not None:
        try:
            audit_anchor.check_head(earlier)
        except audit_anchor.AnchorError as error:
            raise click.ClickException(f"audit chain shortened or rewritten: {error}") from None
    click.echo(f"Audit chain intact: {report.rows_checked} events checked.")
    click.echo(f"Clinical rows intact: {content.rows_checked} rows match their creation events.")
    if anchor_path:
        head = audit_anchor.head_of(report)
        audit_anchor.write_head(anchor_path, head)
        click.echo(f"Head (event id {head.event_id}, {head.count} events) written to {anchor_path}.")


def _one_snapshot() -> None:
    """Make every read of this command see one snapshot of the database.

    Otherwise, on PostgreSQL, an entry charted between reading the events and reading its
    table would look like a row no event vouches for. (SQLite's transaction already is one.)
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # A fresh transaction: the isolation level can only be chosen before its first read.
        db.session.rollback()
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


@click.command("audit-baseline")
def audit_baseline() -> None:
    """Vouch for clinical rows written before content hashes existed (once, after upgrading)."""
    from clinic import content_hash

    recorded: dict[tuple[str, int], str] = {}
    report = audit.verify_chain(content_hashes=recorded)
    if not report.ok:
        raise click.ClickException(
            f"audit chain broken at event id {report.first_broken_id}; nothing was vouched for"
        )
    counts: dict[str, int] = {}
    for table, row in content_hash.unhashed_rows(recorded):
        audit.record(
            "baseline", object_type=table, object_id=row["id"], username="(command line)",
            detail={content_hash.DETAIL_KEY: content_hash.stamp_row(table, row)},
        )
        counts[table] = counts.get(table, 0) + 1
    db.session.commit()
    if not counts:
        click.echo("Every clinical row already has a content hash; nothing to do.")
    for table, count in counts.items():
        click.echo(f"{table}: {count} rows vouched for as they are now.")


@click.command("grant-app-role")
@click.argument("role")
def grant_app_role(role: str) -> None:
    """Let ROLE, the app's own PostgreSQL role, read and append only; run as the owner after db upgrade."""
    from clinic import db_roles

    try:
        with db.engine.begin() as connection:
            schema = db_roles.grant_app_role(connection, role)
    except db_roles.RoleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{role} may now read every table of schema {schema} and add rows to it; it may change "
        f"only {', '.join(sorted(db_roles.APP_UPDATES))} (named columns) and delete only login "
        "throttles. Run the app with DATABASE_URL naming this role; keep migrations on the owner."
    )


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo unit, patients and accounts unless they exist already."""
    from clinic.demo import seed

    created = seed()
    click.echo("Demo data created." if created else "Demo data already present; left as it is.")
