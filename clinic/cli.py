"""Command-line tasks: first administrator, audit-chain check, demo data."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from clinic import audit
from clinic.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from clinic.auth.services import normalise_username
from clinic.extensions import db
from clinic.models import User
from clinic.models.user import ROLES


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(verify_audit)
    app.cli.add_command(seed_demo)
    from clinic.handover.cli import handover_command

    app.cli.add_command(handover_command)


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--display-name", prompt="Full name")
@click.option("--role", type=click.Choice(sorted(ROLES)), default="admin", show_default=True)
@click.password_option(confirmation_prompt=True)
def create_user(username: str, display_name: str, role: str, password: str) -> None:
    """Create a user account (the first administrator, typically)."""
    name = normalise_username(username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
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
def verify_audit() -> None:
    """Recompute the audit HMAC chain and name the first broken row."""
    report = audit.verify_chain()
    if report.ok:
        click.echo(f"Audit chain intact: {report.rows_checked} events checked.")
        return
    raise click.ClickException(
        f"audit chain broken at event id {report.first_broken_id}: {report.problem} "
        f"({report.rows_checked} events before it are intact)"
    )


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo unit, patients and accounts unless they exist already."""
    from clinic.demo import seed

    created = seed()
    click.echo("Demo data created." if created else "Demo data already present; left as it is.")
