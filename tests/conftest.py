"""Fixtures: a migrated database (SpatiaLite by default, PostGIS when TEST_DATABASE_URL is set), the demo town,
apps and clients. Each test gets its own copy of a template database, so tests never see each other's writes."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.settings import DEMO_PASSWORD, Settings

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GRIDPATROL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def pytest_report_header(config):
    return f"gridpatrol test database: {'PostGIS ' + PG_URL if PG_URL else 'SpatiaLite (temporary files)'}"


class Databases:
    """Builds template databases once per run and hands out clones."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.templates: dict[str, str] = {}
        self.created_pg: list[str] = []
        self.run_id = uuid.uuid4().hex[:8]

    @property
    def kind(self) -> str:
        return "postgis" if PG_URL else "spatialite"

    def _admin_engine(self):
        url = make_url(PG_URL).set(database="postgres")
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url, isolation_level="AUTOCOMMIT")

    def _new_empty(self, name: str, template: str | None = None) -> str:
        if not PG_URL:
            path = self.workdir / f"{name}.db"
            if template:
                shutil.copyfile(make_url(template).database, path)
            return f"sqlite:///{path}"
        db_name = f"gp_test_{self.run_id}_{name}"
        engine = self._admin_engine()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}"'))
            suffix = f' TEMPLATE "{make_url(template).database}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{db_name}"{suffix}'))
        engine.dispose()
        self.created_pg.append(db_name)
        return make_url(PG_URL).set(database=db_name).render_as_string(hide_password=False)

    def template(self, name: str) -> str:
        """'migrated' (empty schema) or 'demo' (schema plus the demo town)."""
        if name not in self.templates:
            from backend.migrate import upgrade

            url = self._new_empty(f"tpl_{name}")
            upgrade(url)
            if name == "demo":
                app = create_app(settings_for_test(url, self.workdir))
                with app.app_context():
                    from backend.demo.loader import load_demo
                    from backend.extensions.database import get_db, get_session

                    load_demo(get_session())
                    get_session().close()
                    get_db().engine.dispose()
            self._checkpoint(url)
            self.templates[name] = url
        return self.templates[name]

    def _checkpoint(self, url: str) -> None:
        if not PG_URL:  # fold the WAL into the file so a plain copy is complete
            from backend.extensions.database import sqlite_dbapi_module

            conn = sqlite_dbapi_module().connect(make_url(url).database)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    def clone(self, name: str) -> str:
        return self._new_empty(f"t{uuid.uuid4().hex[:10]}", self.template(name))

    def drop_all(self) -> None:
        if PG_URL and self.created_pg:
            engine = self._admin_engine()
            with engine.connect() as conn:
                for db_name in reversed(self.created_pg):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            engine.dispose()


def settings_for_test(database_url: str, workdir: Path, **overrides) -> Settings:
    environ = {"GRIDPATROL_VAR_DIR": str(workdir), "SECRET_KEY": "test-secret-key-" + "x" * 32,
               "DATABASE_URL": database_url, "PWA_DIST": str(workdir / "no-pwa"), "LOG_LEVEL": "WARNING"}
    return Settings.from_env(environ, **overrides)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    yield dbs
    dbs.drop_all()


def _make_app(databases, template: str, tmp_path: Path, **overrides):
    app = create_app(settings_for_test(databases.clone(template), tmp_path, **overrides))
    app.config["TESTING"] = True
    yield app
    from backend.extensions.database import Database

    db: Database = app.extensions["gridpatrol_db"]
    db.engine.dispose()


@pytest.fixture
def app(databases, tmp_path):
    """An app on a private copy of the demo town."""
    yield from _make_app(databases, "demo", tmp_path)


@pytest.fixture
def empty_app(databases, tmp_path):
    """An app on a private, migrated, empty database."""
    yield from _make_app(databases, "migrated", tmp_path)


@pytest.fixture(scope="module")
def shared_app(databases, tmp_path_factory):
    """One demo-town app for a whole module of tests that only read, or whose writes do not interfere."""
    yield from _make_app(databases, "demo", tmp_path_factory.mktemp("shared"))


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Signs demo users in (once per user and app) and builds request headers."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        self._tokens: dict[str, dict] = {}

    def login(self, username: str, password: str = DEMO_PASSWORD) -> dict:
        response = self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def headers(self, username: str, **extra) -> dict:
        if username not in self._tokens:
            self._tokens[username] = self.login(username)
        return {"Authorization": f"Bearer {self._tokens[username]['access_token']}", **extra}

    def user(self, username: str) -> dict:
        self.headers(username)
        return self._tokens[username]["user"]


@pytest.fixture
def auth(app):
    return Auth(app)


@pytest.fixture(scope="module")
def shared_auth(shared_app):
    return Auth(shared_app)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real-world test data not found at {SHARED_DATA}; set GRIDPATROL_SHARED_DATA")
    return SHARED_DATA
