"""Production refuses unsafe settings; other environments start with safe defaults."""

import pytest

from config import Config, ProductionConfig, config_for


def _production(**overrides):
    settings = {key: getattr(ProductionConfig, key) for key in dir(ProductionConfig) if key.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db/marketplace", SECRET_KEY="k" * 40)
    settings.update(overrides)
    return settings


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.validate(_production(SECRET_KEY=None))


def test_production_refuses_a_short_or_development_secret_key():
    for key in ("short", "development-only-not-secret-development-only-not-secret"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            ProductionConfig.validate(_production(SECRET_KEY=key))


def test_production_refuses_insecure_cookies():
    with pytest.raises(RuntimeError, match="secure"):
        ProductionConfig.validate(_production(SESSION_COOKIE_SECURE=False))


def test_production_needs_a_database_url():
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ProductionConfig.validate(_production(SQLALCHEMY_DATABASE_URI=None))


def test_production_with_real_settings_starts():
    ProductionConfig.validate(_production())


def test_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="Unknown MARKETPLACE_ENV"):
        config_for("staging-typo")


def test_ocds_schema_setting_points_at_the_shared_folder_when_it_exists():
    assert Config.OCDS_SCHEMA_DIR is None or Config.OCDS_SCHEMA_DIR.endswith("shared/ocds")
