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


@click.command("verify-audit")
@click.option(
    "--anchor", "anchor_path", type=click.Path(dir_okay=False),
    help="File (kept off the database server) holding the head verified last time: fail if the "
    "chain no longer holds it, then write the new head there.",
)
def verify_audit(anchor_path: str | None) -> None:
    """Recompute the audit HMAC chain and name the first broken row."""
    from clinic import audit_anchor

    earlier = None
    if anchor_path:
        try:
            earlier = audit_anchor.read_head(anchor_path)
        except audit_anchor.AnchorError as error:
            raise click.ClickException(str(error)) from None
    report = audit.verify_chain()
    if not report.ok:
        raise click.ClickException(
            f"audit chain broken at event id {report.first_broken_id}: {report.problem} "
            f"({report.rows_checked} events before it are intact)"
        )
    if earlier is not None:
        try:
            audit_anchor.check_head(earlier)
        except audit_anchor.AnchorError as error:
            raise click.ClickException(f"audit chain shortened or rewritten: {error}") from None
    click.echo(f"Audit chain intact: {report.rows_checked} events checked.")
    if anchor_path:
        head = audit_anchor.head_of(report)
        audit_anchor.write_head(anchor_path, head)
        click.echo(f"Head (event id {head.event_id}, {head.count} events) written to {anchor_path}.")


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo unit, patients and accounts unless they exist already."""
    from clinic.demo import seed

    created = seed()
    click.echo("Demo data created." if created else "Demo data already present; left as it is.")
