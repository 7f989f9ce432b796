"""The shared API layer (extensions/api.py, http_errors.py): what the OpenAPI document promises holds."""
from __future__ import annotations

from backend.limits import INT_MAX

from ..resources.test_patrols import start


def test_the_documented_error_is_the_one_every_error_answers(shared_app):
    client = shared_app.test_client()
    error = client.get("/api/openapi.json").get_json()["components"]["schemas"]["Error"]
    assert error["properties"]["code"]["type"] == "string" and error["required"] == ["code", "details", "message"]
    for response in (client.get("/api/v1/me"), client.get("/api/v1/areas/1"), client.put("/api/v1/auth/login")):
        body = response.get_json()
        assert set(body) == set(error["properties"]) and isinstance(body["code"], str), body


def test_a_method_the_api_has_not_is_a_405_that_says_which_it_has(shared_app):
    response = shared_app.test_client().get("/api/v1/auth/login")  # the app's own pages must not claim API URLs
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_every_paginated_route_documents_the_page_it_can_serve(shared_app):
    spec = shared_app.test_client().get("/api/openapi.json").get_json()
    pages = [p for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict)
             for p in op.get("parameters", []) if p.get("name") == "page"]
    assert len(pages) == 11 and all(p["schema"]["maximum"] == INT_MAX for p in pages)


def test_a_body_that_is_not_utf8_is_refused_not_read_as_no_body(client, auth):
    headers = auth.headers("officer1")
    patrol = start(client, headers).get_json()
    refused = client.post(f"/api/v1/patrols/{patrol['id']}/end", headers=headers, data=b"a\xff",
                          content_type="application/json")
    assert refused.status_code == 400
    assert client.get(f"/api/v1/patrols/{patrol['id']}", headers=headers).get_json()["ended_at"] is None
    assert client.post(f"/api/v1/patrols/{patrol['id']}/end", headers=headers).status_code == 200  # no body at all


def test_the_routes_without_a_token_are_documented_so(shared_app):
    spec = shared_app.test_client().get("/api/openapi.json").get_json()
    public = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method, op in ops.items()
              if isinstance(op, dict) and op.get("security") == []}
    assert spec["security"] == [{"bearerAuth": []}]
    assert public == {"GET /api/health", "GET /api/v1/config", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh",
                      "POST /api/v1/auth/logout", "OPTIONS /api/v1/uploads"}  # tus discovery: what the server speaks
