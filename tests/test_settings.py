"""Configuration from the environment; production refuses demo secrets and demo accounts."""
from __future__ import annotations

import pytest

from backend import create_app
from backend.settings import ConfigError, Settings
from tests.conftest import settings_for_test


def test_development_defaults_keep_a_generated_secret_under_var(tmp_path):
    first = Settings.from_env({"GRIDPATROL_VAR_DIR": str(tmp_path)})
    second = Settings.from_env({"GRIDPATROL_VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert first.database_url == f"sqlite:///{tmp_path / 'gridpatrol.db'}"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_environment_overrides(tmp_path):
    s = Settings.from_env({"GRIDPATROL_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://gp@db/gp",
                           "SECRET_KEY": "k" * 40, "MEDIA_DIR": "/srv/media", "LOG_LEVEL": "debug",
                           "REFRESH_TOKEN_TTL_S": "3600"})
    assert (s.database_url, s.secret_key, s.media_dir, s.log_level, s.refresh_token_ttl_s) == (
        "postgresql://gp@db/gp", "k" * 40, "/srv/media", "DEBUG", 3600)


@pytest.mark.parametrize("environ", [
    {"GRIDPATROL_ENV": "production"},
    {"GRIDPATROL_ENV": "production", "SECRET_KEY": "short"},
])
def test_production_requires_a_real_secret(tmp_path, environ):
    with pytest.raises(ConfigError):
        Settings.from_env({"GRIDPATROL_VAR_DIR": str(tmp_path), **environ})


def test_production_refuses_to_start_with_demo_accounts(databases, tmp_path):
    url = databases.clone("demo")
    with pytest.raises(ConfigError, match="admin"):
        create_app(settings_for_test(url, tmp_path, env="production", demo=False))
    # once the demo accounts are deactivated the same database starts
    app = create_app(settings_for_test(url, tmp_path))
    from sqlalchemy import update

    from backend.demo.loader import DEMO_ACCOUNTS
    from backend.extensions.database import get_session
    from backend.models import User

    with app.app_context():
        session = get_session()
        session.execute(update(User).where(User.username.in_(DEMO_ACCOUNTS)).values(active=False))
        session.commit()
    app.extensions["gridpatrol_db"].engine.dispose()
    production = create_app(settings_for_test(url, tmp_path, env="production", demo=False))
    production.extensions["gridpatrol_db"].engine.dispose()


def test_the_demo_password_is_never_accepted_as_a_new_password(client, auth):
    response = client.post("/api/v1/me/password", headers=auth.headers("officer1"),
                           json={"current_password": "gridpatrol-demo", "new_password": "gridpatrol-demo"})
    assert response.status_code == 400 and response.get_json()["code"] == "password_is_demo"
