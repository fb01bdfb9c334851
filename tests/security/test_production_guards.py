"""Commands that would be unsafe in production refuse to run there."""

from __future__ import annotations

from marketplace import create_app


def test_demo_data_with_its_published_password_is_never_loaded_in_production(tmp_path):
    app = create_app("production", {"SECRET_KEY": "k" * 48, "REQUEST_LOG": False,
                                    "BASE_URL": "https://marketplace.kent.example",
                                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.sqlite'}"})

    with app.app_context():  # as `flask seed-demo` runs it
        result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code != 0 and "not loaded in production" in result.output
    assert not (tmp_path / "production.sqlite").exists() or (tmp_path / "production.sqlite").stat().st_size == 0
