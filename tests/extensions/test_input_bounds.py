"""Values no column or clock can hold are 400s naming the field, in the user's language, with nothing stored: on
every route that takes them, in paths, query strings, JSON bodies and multipart forms (extensions/api.py)."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from backend.extensions.database import get_session
from backend.models import AuditEntry, LoginAttempt, Patrol

from ..resources.test_patrols import start

GPX_HEAD = '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'


def fix(t: str, lon: float, lat: float) -> dict:
    return {"t": t, "lon": lon, "lat": lat, "accuracy_m": 8.0}

INT_OVER = [2**31, 2**63]
INT_UNDER = [-(2**31) - 1]
NUL = "a\x00b"
TIMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
DATES = ["0001-01-01", "9999-12-31"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _bad_values(spec: dict, schema: dict, in_path: bool = False) -> list[tuple[tuple, object]]:
    """(path inside the value, bad value) for a parameter or property of this schema."""
    schema = _resolve(spec, schema)
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        return [((), v) for v in INT_OVER + ([] if in_path else INT_UNDER)]
    if kind == "string" and fmt == "date-time":
        return [((), v) for v in TIMES]
    if kind == "string" and fmt == "date":
        return [((), v) for v in DATES]
    if kind == "string" and fmt != "binary" and "enum" not in schema:
        return [((), NUL)]
    if kind == "array":
        return [(("0", *inner), [value]) for inner, value in _bad_values(spec, schema["items"])]
    if kind == "object" and "properties" in schema:
        return [((name, *inner), {name: value}) for name, prop in schema["properties"].items()
                for inner, value in _bad_values(spec, prop)]
    return []


def _cases(spec: dict) -> list:
    cases = []
    for path, ops in spec["paths"].items():
        shared = ops.get("parameters", [])
        for method, op in ops.items():
            if method == "parameters":
                continue
            params = [p for p in shared + op.get("parameters", []) if "in" in p]
            # every other path value valid: an id, or the first of its named values
            path_ints = {p["name"]: p["schema"].get("enum", [1])[0] for p in params if p["in"] == "path"}
            for p in params:
                if p["in"] not in ("path", "query"):
                    continue
                for inner, value in _bad_values(spec, p["schema"], in_path=p["in"] == "path"):
                    cases.append(pytest.param(method, path, {**path_ints, **({p["name"]: value} if p["in"] == "path"
                                              else {})}, {p["name"]: value} if p["in"] == "query" else {}, None,
                                              None, (p["name"], *inner), id=f"{method} {path} {p['in']}:{p['name']}"
                                              f"={value!r}"))
            for content_type, content in op.get("requestBody", {}).get("content", {}).items():
                schema = _resolve(spec, content["schema"])
                for name, prop in schema.get("properties", {}).items():
                    if path.endswith("/points") and name == "points":
                        continue  # checked column-wise after the owner check (services/patrol/fixes.py): tested below
                    for inner, value in _bad_values(spec, prop):
                        if content_type == "multipart/form-data" and not isinstance(value, (str, int)):
                            continue
                        cases.append(pytest.param(method, path, path_ints, {}, content_type, {name: value},
                                                  (name, *inner), id=f"{method} {path} body:{name}={value!r}"))
    return cases


def _spec() -> dict:
    from backend import create_app
    from backend.settings import Settings

    app = create_app(Settings.from_env({"SECRET_KEY": "s" * 40, "DATABASE_URL": "sqlite:///:memory:",
                                        "GRIDPATROL_VAR_DIR": "/tmp"}))
    return app.test_client().get("/api/openapi.json").get_json()


CASES = _cases(_spec())


def test_the_cases_cover_every_kind_of_input():
    """The parametrised cases below come from the OpenAPI document; this keeps them from silently thinning out."""
    ids = [c.id for c in CASES]
    assert len(ids) > 150
    for expected in ("post /api/v1/auth/login body:username='a\\x00b'", "get /api/v1/areas/{area_id} path:area_id=2147483648",
                     "get /api/v1/users query:q='a\\x00b'", "post /api/v1/patrols body:started_at='9999-12-31T23:59:59-14:00'",
                     "post /api/v1/tasks body:grid_ids=[9223372036854775808]", "get /api/v1/tasks query:date='0001-01-01'",
                     "post /api/v1/areas/import body:name_property='a\\x00b'", "get /api/v1/audit query:actor=2147483648",
                     "get /api/v1/patrols query:page=2147483648", "post /api/v1/patrols/import body:officer='a\\x00b'"):
        assert expected in ids


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        session = get_session()
        return tuple(session.scalar(select(func.count()).select_from(model)) for model in (AuditEntry, LoginAttempt,
                                                                                           Patrol))


def _walk(fields: dict, path: tuple) -> object:
    node = fields
    for key in path:
        assert isinstance(node, dict) and key in node, (path, fields)
        node = node[key]
    return node


@pytest.mark.parametrize("method, path, path_values, query, content_type, body, field", CASES)
def test_a_value_no_column_or_clock_holds_is_a_400_naming_the_field(shared_app, shared_auth, method, path,
                                                                    path_values, query, content_type, body, field):
    url = re.sub(r"{(\w+)}", lambda m: str(path_values[m.group(1)]), path)
    kwargs = {"query_string": query, "headers": shared_auth.headers("admin", **{"If-Match": '"any"',
                                                                                "Tus-Resumable": "1.0.0"})}
    before = _counts(shared_app)
    if content_type == "application/json":
        kwargs["data"], kwargs["content_type"] = json.dumps(body), content_type
    elif content_type:
        kwargs["data"], kwargs["content_type"] = {k: str(v) for k, v in body.items()}, content_type
    client = shared_app.test_client()
    response = client.open(url, method=method.upper(), **kwargs)
    assert response.status_code == 400, response.get_data(as_text=True)
    if method == "head":  # a HEAD answer has no body to name the field in
        assert _counts(shared_app) == before
        return
    answer = response.get_json()
    assert answer["code"] == "validation_error" and answer["message"] == "提交的内容有误，请检查标出的字段"
    messages = _walk(answer["details"]["fields"], field)
    assert any(CJK.search(m) for m in (messages if isinstance(messages, list) else [messages])), messages
    english = client.open(url, method=method.upper(), **{**kwargs, "headers": {**kwargs["headers"],
                                                                                "Accept-Language": "en"}})
    assert english.get_json()["message"] == "Some fields are invalid; see details"
    assert not any(CJK.search(m) for m in _walk(english.get_json()["details"]["fields"], field))
    assert _counts(shared_app) == before  # every write is audited: no audit row, nothing written


# --- what a user relies on, whole requests that are otherwise valid ----------------------------------------------

def test_a_fix_past_year_9999_in_utc_is_refused_and_the_track_stays_readable(client, auth):
    headers = auth.headers("officer1")
    patrol = start(client, headers).get_json()
    good = [fix("2026-11-20T08:00:10+00:00", 115.55, 38.10), fix("2026-11-20T08:00:20+00:00", 115.5501, 38.1001)]
    bad = [*good, fix("9999-12-31T23:59:59-14:00", 115.5502, 38.1002)]
    refused = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                          json={"batch_id": "batch-0001", "points": bad})
    assert refused.status_code == 400
    assert list(refused.get_json()["details"]["fields"]["points"]) == ["2"]
    assert client.get(f"/api/v1/patrols/{patrol['id']}", headers=headers).get_json()["raw_count"] == 0
    assert client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                       json={"batch_id": "batch-0002", "points": good}).status_code == 200
    track = client.get(f"/api/v1/patrols/{patrol['id']}/track", headers=headers)
    assert track.status_code == 200 and track.get_json()["type"] == "FeatureCollection"


def test_a_patrol_started_past_year_9999_is_refused_and_not_stored(app, client, auth):
    headers = auth.headers("officer1")
    before = _counts(app)
    response = client.post("/api/v1/patrols", headers=headers,
                           json={"client_id": "phone-0001-x", "started_at": "9999-12-31T23:59:59-14:00"})
    assert response.status_code == 400 and "started_at" in response.get_json()["details"]["fields"]
    assert _counts(app) == before


def test_a_sign_in_name_with_nul_is_refused_before_any_attempt_is_counted(app, client):
    before = _counts(app)
    response = client.post("/api/v1/auth/login", json={"username": "officer1\x00", "password": "whatever-it-is"})
    assert response.status_code == 400 and "username" in response.get_json()["details"]["fields"]
    assert _counts(app) == before


def test_nul_in_boundary_properties_is_removed_on_import_and_said(client, auth):
    square = [[[115.0, 38.0], [115.001, 38.0], [115.001, 38.001], [115.0, 38.001], [115.0, 38.0]]]
    collection = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": square},
        "properties": {"name": "网格\x00一", "code\x00": "G-1\x00", "note": ["a\x00", {"b\x00": "c\x00"}]}}]}
    response = client.post("/api/v1/areas/import", headers=auth.headers("admin"), content_type="multipart/form-data",
                           data={"kind": "county", "file": (io.BytesIO(json.dumps(collection).encode()), "g.geojson")})
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert [r["code"] for r in result["repaired"][0]["repairs"]] == ["nul_removed"]
    assert "空字符" in result["repaired"][0]["repairs"][0]["message"]
    area = client.get(f"/api/v1/areas/{result['created_ids'][0]}", headers=auth.headers("admin")).get_json()
    assert area["properties"]["name"] == "网格一"


def test_a_gpx_time_past_year_9999_in_utc_is_unreadable_not_a_broken_track(client, auth):
    gpx = (GPX_HEAD + '<trk><trkseg>'
           '<trkpt lat="38.1" lon="115.55"><time>2026-11-20T00:00:00Z</time></trkpt>'
           '<trkpt lat="38.1001" lon="115.5501"><time>2026-11-20T00:00:10Z</time></trkpt>'
           '<trkpt lat="38.1002" lon="115.5502"><time>9999-12-31T23:59:59-14:00</time></trkpt>'
           '</trkseg></trk></gpx>').encode()
    headers = auth.headers("admin")
    imported = client.post("/api/v1/patrols/import", headers=headers, content_type="multipart/form-data",
                           data={"officer": "officer1", "file": (io.BytesIO(gpx), "logger.gpx")})
    assert imported.status_code == 201, imported.get_json()
    answer = imported.get_json()
    assert answer["stored"] == 3 and answer["dropped"]["time"] == 1
    track = client.get(f"/api/v1/patrols/{answer['patrol_id']}/track", headers=headers)
    assert track.status_code == 200
    assert [f["properties"]["t"] for f in track.get_json()["features"] if f["properties"]["kind"] == "dropped"] == [None]


def test_the_last_page_an_offset_can_hold_is_an_empty_page(client, auth):
    response = client.get("/api/v1/patrols", query_string={"page": 2**31 - 1, "page_size": 500},
                          headers=auth.headers("admin"))
    assert response.status_code == 200 and response.get_json() == []
