"""Command-line tools: flask create-admin, seed-demo, audit-verify."""

from __future__ import annotations

import click
from flask import Flask, current_app

from marketplace.extensions import db


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="Full name")
@click.password_option("--password", envvar="ADMIN_PASSWORD", help="Or set ADMIN_PASSWORD")
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create (or restore) an administrator who can invite the other staff."""
    from marketplace.accounts.services import create_admin
    from marketplace.errors import DomainError

    if len(password) < 12:
        raise click.BadParameter("Use at least 12 characters", param_hint="--password")
    try:
        user = create_admin(email, name, password)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Administrator {user.email} is ready. Sign in at /sign-in.")


@click.command("audit-verify")
def audit_verify_command() -> None:
    """Check the audit log's hash chains and report the first broken link."""
    from marketplace.audit import verify_database

    report = verify_database()
    if report.ok:
        click.echo(f"Audit log intact: {report.checked} events checked.")
        return
    click.echo(f"Audit log broken at event {report.broken_at}: {report.problem}. "
               f"{report.checked} events before it are intact.", err=True)
    raise SystemExit(1)


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(["demo", "large"]), default="demo", show_default=True,
              help="large: the demo, then 10,000 opportunities, 5,000 organisations and 50,000 bids (once only)")
def seed_demo_command(scale: str) -> None:
    """Load demo data (idempotent) and print the demo sign-in details. Never in production: every demo account,
    administrators included, has the password printed in the README."""
    from marketplace.errors import DomainError
    from marketplace.seed import seed_demo
    from marketplace.seed_large import seed_large

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("Demo data is not loaded in production: its accounts share a published password.")
    summary = seed_demo()
    click.echo(summary.describe())
    if scale == "large":
        try:
            click.echo(seed_large().describe())
        except DomainError as error:
            raise click.ClickException(error.message) from None


def init_app(app: Flask) -> None:
    from marketplace import jobs
    from marketplace.evaluation.cli import init_cli as init_evaluation_cli

    for command in (create_admin_command, audit_verify_command, seed_demo_command):
        app.cli.add_command(command)
    init_evaluation_cli(app)
    jobs.init_cli(app)
    app.shell_context_processor(lambda: {"db": db})
