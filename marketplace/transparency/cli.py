"""Open contracting data commands: `flask ocds-export FILE` writes one release package of every release,
`flask ocds-validate FILE` checks a package against the OCDS schema (offline from OCDS_SCHEMA_DIR)."""

from __future__ import annotations

import json

import click
from flask import Flask

from marketplace.links import base_url_option, links_from
from marketplace.timeutil import utcnow


@click.command("ocds-export")
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=True))
@base_url_option("the links in the releases")
def ocds_export_command(file, base_url: str | None) -> None:
    """Write every release of every published opportunity to FILE as one release package (- for standard
    output)."""
    from marketplace.transparency import ocds

    with links_from(base_url):
        package = ocds.export_package(utcnow())
    json.dump(package, file, ensure_ascii=False, indent=2)
    file.write("\n")
    click.echo(f"{len(package['releases'])} releases written to {file.name}.", err=True)


@click.command("ocds-validate")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def ocds_validate_command(file) -> None:
    """Check the release package in FILE (- for standard input) against the OCDS 1.1 schema and its extensions;
    list every problem and exit 1 when there is one."""
    from marketplace.transparency.ocds_validate import validate_package

    try:
        package = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not JSON: {error}") from None
    problems = validate_package(package)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problems in {file.name}.")
    click.echo(f"{file.name} is a valid OCDS 1.1 release package of {len(package['releases'])} releases.")


def init_cli(app: Flask) -> None:
    app.cli.add_command(ocds_export_command)
    app.cli.add_command(ocds_validate_command)
