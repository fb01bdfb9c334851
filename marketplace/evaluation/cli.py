"""`flask score-tender INPUT`: run the scoring engine on a JSON scenario and print the results as JSON.

Procurement staff use it to model "what if" scenarios (other weights, other prices, another price method) without
touching live data: it reads nothing from the database but the abnormally-low thresholds the administrator set,
and writes nothing. The input's own `settings` override those thresholds. Exit status: 0 with the results on
standard output; 1 when the input cannot be scored, with one line per problem, each naming its field, on standard
error; 2 when the command is misused (no such file).
"""

from __future__ import annotations

from decimal import Decimal

import click
from flask import Flask, has_app_context

from marketplace.evaluation import engine_io
from marketplace.evaluation.scoring import ModelError, Settings, evaluate

INPUT_HELP = """Score a tender from INPUT, a JSON file (or - for standard input), and print the results as JSON.

\b
INPUT looks like:
{"criteria": [{"id": "price", "kind": "price", "weight": 40, "method": "relative_lowest"},
              {"id": "pf1", "kind": "pass_fail"},
              {"id": "q1", "kind": "quality", "weight": 50, "scale_max": 5, "min_score": 2},
              {"id": "kent", "kind": "local_economy", "weight": 10, "method": "relative_highest"}],
 "bids": [{"id": "A", "price": "120000.00", "pass_fail": {"pf1": true},
           "scores": {"q1": 4}, "local_economy_share": "0.45"}]}

Price methods: relative_lowest, deviation_from_lowest (factor), linear_bounds (min_price, max_price).
Kent local economy methods: panel, relative_highest, target (target, a share from 0 to 1).
Optional "settings": {"abnormally_low_mean_pct": 40, "abnormally_low_next_pct": 30}.
"""


def portal_settings() -> Settings:
    """The administrator's abnormally-low thresholds when run inside the app; the defaults otherwise."""
    if not has_app_context():
        return Settings()
    from marketplace.settings import services

    return Settings(abnormally_low_mean_pct=Decimal(services.get("abnormally_low_mean_pct")),
                    abnormally_low_next_pct=Decimal(services.get("abnormally_low_next_pct")))


def _fail(error: ModelError) -> None:
    for field, message in error.problems:
        click.echo(f"Error: {field}: {message}", err=True)
    raise SystemExit(1)


@click.command("score-tender", help=INPUT_HELP)
@click.argument("input_file", metavar="INPUT", type=click.File("r", encoding="utf-8"))
def score_tender_command(input_file) -> None:
    try:
        text = input_file.read()
    except UnicodeDecodeError:
        raise click.ClickException("INPUT is not UTF-8 text") from None
    try:
        scenario = engine_io.loads(text)
        settings = scenario.settings_over(portal_settings())
        result = evaluate(scenario.criteria, scenario.bids, settings)
    except ModelError as error:
        _fail(error)
    click.echo(engine_io.dumps(result, settings))


def init_cli(app: Flask) -> None:
    app.cli.add_command(score_tender_command)
