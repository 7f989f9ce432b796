"""The application as a whole: one JSON error shape in the user's language, the API description served from our
own files, safe production settings, and user text returned as data."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from backend import create_app
from backend.settings import ConfigError, Settings
from tests.conftest import settings_for_test

GARBAGE_TOKEN = {"Authorization": "Bearer not.a.jwt"}


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"code", "message", "details"} and isinstance(body["details"], dict)
    assert body["code"] == code and body["message"]
    return body


@pytest.fixture
def built_app(databases, tmp_path):
    """Builds extra apps on private copies of the demo town, with settings of the test's choosing."""
    apps = []

    def build(**overrides):
        app = create_app(settings_for_test(databases.clone("demo"), tmp_path, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["gridpatrol_db"].engine.dispose()


@pytest.mark.parametrize(("method", "path", "headers", "status", "code"), [
    ("GET", "/api/v1/no-such-thing", "admin", 404, "not_found"),
    ("GET", "/api/nothing/here", {}, 404, "not_found"),
    ("DELETE", "/api/v1/areas", "admin", 405, "method_not_allowed"),
    ("PUT", "/api/v1/auth/login", {}, 405, "method_not_allowed"),
    ("GET", "/api/v1/users", {}, 401, "unauthorized"),
    ("GET", "/api/v1/areas", GARBAGE_TOKEN, 401, "invalid_token"),
    ("GET", "/api/v1/me", {"Authorization": "Basic YWRtaW46eA=="}, 401, "unauthorized"),
])
def test_one_error_shape_for_every_failure(shared_app, shared_auth, method, path, headers, status, code):
    headers = shared_auth.headers(headers) if isinstance(headers, str) else headers
    response = shared_app.test_client().open(path, method=method, headers=headers)
    _assert_error_shape(response, status, code)


def test_validation_errors_name_the_field(shared_app):
    client = shared_app.test_client()
    body = _assert_error_shape(client.post("/api/v1/auth/login", json={"username": "admin"}), 400, "validation_error")
    assert list(body["details"]["fields"]) == ["password"]
    extra = client.post("/api/v1/auth/login", json={"username": "admin", "password": "x" * 12, "role": "admin"})
    assert "role" in _assert_error_shape(extra, 400, "validation_error")["details"]["fields"]


def test_messages_are_chinese_by_default_and_english_on_request(shared_app):
    client = shared_app.test_client()
    assert client.get("/api/v1/users").get_json()["message"] == "请先登录"
    assert client.get("/api/v1/users", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json()["message"] == "请先登录"
    english = client.get("/api/v1/users", headers={"Accept-Language": "en-US,en;q=0.8"}).get_json()
    assert english["code"] == "unauthorized" and english["message"] == "Please sign in"
    wrong = client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-password"},
                        headers={"Accept-Language": "en"})
    assert wrong.get_json()["message"] == "Wrong username or password"
    assert client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-password"}
                       ).get_json()["message"] == "用户名或密码错误"


def test_body_over_the_limit_is_413(built_app):
    client = built_app(max_content_length=1000, evidence_max_bytes=1000).test_client()
    small = client.post("/api/v1/auth/login", json={"username": "admin", "password": "gridpatrol-demo"})
    assert small.status_code == 200
    big = client.post("/api/v1/auth/login", json={"username": "admin", "password": "x" * 2000})
    body = _assert_error_shape(big, 413, "payload_too_large")
    assert body["message"] == "上传内容过大"


def test_a_crash_answers_500_without_trace_or_sql(built_app):
    app = built_app()

    @app.get("/api/crash")
    def crash():
        from backend.extensions.database import get_session

        get_session().execute(text("SELECT password_hash FROM no_such_table WHERE username = 'admin'"))

    for headers, message in (({}, "服务器内部错误，请稍后重试"), ({"Accept-Language": "en"},
                                                            "Internal server error; please retry later")):
        response = app.test_client().get("/api/crash", headers=headers)
        body = _assert_error_shape(response, 500, "internal_error")
        assert body == {"code": "internal_error", "message": message, "details": {}}
        raw = response.get_data(as_text=True)
        assert not any(word in raw for word in ("Traceback", "SELECT", "no_such_table", "password_hash", ".py"))


def test_openapi_lists_the_paths(shared_app):
    spec = shared_app.test_client().get("/api/openapi.json").get_json()
    assert spec["info"]["title"] == "GridPatrol 网格巡查 API"
    for path in ("/api/v1/auth/login", "/api/v1/areas", "/api/v1/areas/import", "/api/v1/areas/{area_id}",
                 "/api/v1/users", "/api/v1/users/{user_id}", "/api/v1/squads", "/api/v1/departments",
                 "/api/v1/audit"):
        assert path in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_api_docs_load_only_from_our_server(shared_app):
    client = shared_app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert not re.search(r"https?://", html)  # works on a township intranet with no way out
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/api/docs/assets/") for a in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.data) > 1000


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"GRIDPATROL_ENV": "production", "GRIDPATROL_VAR_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="32"):
        Settings.from_env({"GRIDPATROL_ENV": "production", "SECRET_KEY": "short", "GRIDPATROL_VAR_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()  # no development key was invented for production
    ok = Settings.from_env({"GRIDPATROL_ENV": "production", "SECRET_KEY": "k" * 40, "GRIDPATROL_VAR_DIR": str(tmp_path)})
    assert ok.is_production and not ok.demo


def test_typed_text_comes_back_as_text(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    script = "<script>alert(1)</script>"
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "xss-probe", "display_name": script, "password": "patrol-north-2024", "roles": ["commander"]})
    assert created.status_code == 201 and created.mimetype == "application/json"
    read = client.get(f"/api/v1/users/{created.get_json()['id']}", headers=admin)
    assert read.mimetype == "application/json" and read.get_json()["display_name"] == script
    assert "&lt;" not in read.get_data(as_text=True)  # data, not HTML: escaping is the page's job when it shows it
