from flask import jsonify, render_template
from flask_login import current_user

from marketplace import health
from marketplace.pages import bp


@bp.get("/")
def home():
    return render_template("pages/home.html", user=current_user)


@bp.get("/cookies-and-privacy")
def cookies():
    return render_template("pages/cookies.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


def benchmark_ceiling():
    """A constant page in the layout, with no query: the ceiling the page benchmarks compare every page with."""
    return render_template("pages/benchmark_ceiling.html")


@bp.record_once
def _register_benchmark_ceiling(state) -> None:
    """The ceiling page exists only in an application configured with BENCHMARK_CEILING."""
    if state.app.config.get("BENCHMARK_CEILING"):
        state.add_url_rule("/benchmark/ceiling", view_func=benchmark_ceiling)


@bp.get("/healthz")
def healthz():
    """For the load balancer: 200 when the database (and Redis, when configured) answer, else 503."""
    body, healthy = health.check()
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
