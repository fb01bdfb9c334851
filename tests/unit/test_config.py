"""Production refuses unsafe settings; other environments start with safe defaults."""

import pytest

from config import Config, DevelopmentConfig, ProductionConfig, config_for


def _production(**overrides):
    settings = {key: getattr(ProductionConfig, key) for key in dir(ProductionConfig) if key.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db/marketplace", SECRET_KEY="k" * 40,
                    BASE_URL="https://marketplace.kent.example")
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


def test_production_needs_base_url_for_links_built_outside_a_request():
    with pytest.raises(RuntimeError, match="BASE_URL"):
        ProductionConfig.validate(_production(BASE_URL=None))


def test_production_base_url_must_be_https():
    with pytest.raises(RuntimeError, match="BASE_URL must start https://"):
        ProductionConfig.validate(_production(BASE_URL="http://marketplace.kent.example"))


@pytest.mark.parametrize("value", ["marketplace.kent.example", "ftp://marketplace.kent.example",
                                   "https://", "https://marketplace.kent.example/?x=1"])
def test_a_base_url_that_is_not_an_address_is_refused_in_any_environment(value):
    for environment in (DevelopmentConfig, ProductionConfig):
        with pytest.raises(RuntimeError, match="BASE_URL must be the service's address"):
            environment.validate(_production(BASE_URL=value))


def test_outside_production_base_url_may_be_left_unset():
    DevelopmentConfig.validate({"BASE_URL": None})


def test_production_with_real_settings_starts():
    ProductionConfig.validate(_production())


def test_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="Unknown MARKETPLACE_ENV"):
        config_for("staging-typo")


def test_ocds_schema_setting_points_at_the_shared_folder_when_it_exists():
    assert Config.OCDS_SCHEMA_DIR is None or Config.OCDS_SCHEMA_DIR.endswith("shared/ocds")
