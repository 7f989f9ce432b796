"""The areas resource: scoped GeoJSON reads, point location, and boundary import of real files."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import shapely
from pyproj import CRS, Proj, Transformer
from shapely.geometry import shape

from tests.conftest import Auth

BOUNDARIES = {
    "haidian": "GNsNyl-PW__haidian.geojson",
    "seoul": "click_that_hood__seoul.geojson",
    "san_francisco": "click_that_hood__san-francisco.geojson",
    "tsinghua": "trackintel__tsinghua_area_epsg32649.geojson",
}
ADMIN_PASSWORD = "import-admin-pass-1"


@pytest.fixture(scope="module")
def raw_files(shared_data) -> dict[str, bytes]:
    return {key: (shared_data / "boundaries" / name).read_bytes() for key, name in BOUNDARIES.items()}


def _dumps(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _upload(client, headers, raw: bytes, kind: str = "grid", filename: str = "boundaries.geojson", **form):
    data = {"kind": kind, "file": (io.BytesIO(raw), filename), **{k: str(v) for k, v in form.items()}}
    return client.post("/api/v1/areas/import", data=data, content_type="multipart/form-data", headers=headers)


def _area_count(client, headers) -> int:
    response = client.get("/api/v1/areas?page_size=1", headers=headers)
    assert response.status_code == 200
    return json.loads(response.headers["X-Pagination"])["total"]


@pytest.fixture
def empty_admin(empty_app) -> Auth:
    """An administrator in the empty database (the first admin of a fresh install is created from the CLI)."""
    from backend.extensions.database import get_session
    from backend.services.core.people import create_user

    with empty_app.app_context():
        session = get_session()
        create_user(session, None, {"username": "importer", "display_name": "导入管理员",
                                    "password": ADMIN_PASSWORD, "roles": ["admin"]})
        session.commit()
    auth = Auth(empty_app)
    auth._tokens["importer"] = auth.login("importer", ADMIN_PASSWORD)
    return auth


def _equal_area_truth_m2(geometry) -> float:
    """Area in a Lambert azimuthal equal-area projection centred on the geometry (independent of the API).

    A ring that crosses itself is filled as a map draws it (make_valid, in the projected plane), which is what
    the import keeps; for valid geometries make_valid changes nothing."""
    centre = geometry.centroid
    laea = CRS.from_proj4(f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
    to_laea = Transformer.from_crs("OGC:CRS84", laea, always_xy=True)
    projected = shapely.transform(geometry, lambda xy: np.column_stack(to_laea.transform(xy[:, 0], xy[:, 1])))
    return shapely.make_valid(projected).area


# --- reading ----------------------------------------------------------------------------------------------


def test_list_is_a_geojson_feature_collection_on_the_north_china_plain(shared_app, shared_auth):
    client = shared_app.test_client()
    response = client.get("/api/v1/areas", headers=shared_auth.headers("admin"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in body["features"]]
    assert {k: kinds.count(k) for k in set(kinds)} == {"town": 1, "zone": 4, "grid": 243, "village": 76}
    for feature in body["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], int)
        assert set(feature["properties"]) == {"kind", "name", "code", "parent_id", "area_m2"}
        assert feature["properties"]["name"] and feature["properties"]["area_m2"] > 0
        assert feature["geometry"]["type"] == "MultiPolygon"
        x0, y0, x1, y1 = shape(feature["geometry"]).bounds
        # lon/lat order, on the Hebei plain (lon 113-120, lat 34-41): not lat/lon, not metres
        assert 113 < x0 < x1 < 120 and 34 < y0 < y1 < 41
    town = next(f for f in body["features"] if f["properties"]["kind"] == "town")
    zones = {f["id"] for f in body["features"] if f["properties"]["kind"] == "zone"}
    assert all(f["properties"]["parent_id"] == town["id"] for f in body["features"]
               if f["properties"]["kind"] in ("zone", "village"))
    assert all(f["properties"]["parent_id"] in zones for f in body["features"] if f["properties"]["kind"] == "grid")


def test_kind_and_parent_filters(shared_app, shared_auth):
    client, headers = shared_app.test_client(), shared_auth.headers("admin")
    zones = client.get("/api/v1/areas?kind=zone", headers=headers).get_json()["features"]
    assert len(zones) == 4 and {f["properties"]["kind"] for f in zones} == {"zone"}
    grid_counts = []
    for zone in zones:
        grids = client.get(f"/api/v1/areas?kind=grid&parent={zone['id']}", headers=headers).get_json()["features"]
        assert grids and all(g["properties"]["parent_id"] == zone["id"] for g in grids)
        grid_counts.append(len(grids))
    assert sum(grid_counts) == 243
    assert client.get("/api/v1/areas?kind=planet", headers=headers).status_code == 400


def test_pages_of_fifty_give_every_grid_exactly_once(shared_app, shared_auth):
    client, headers = shared_app.test_client(), shared_auth.headers("commander1")
    first = client.get("/api/v1/areas?kind=grid&page_size=50", headers=headers)
    pagination = json.loads(first.headers["X-Pagination"])
    assert pagination["total"] == 243 and pagination["total_pages"] == 5
    seen = [f["id"] for f in first.get_json()["features"]]
    for page in range(2, pagination["total_pages"] + 1):
        body = client.get(f"/api/v1/areas?kind=grid&page_size=50&page={page}", headers=headers).get_json()
        assert len(body["features"]) == (50 if page < 5 else 43)
        seen += [f["id"] for f in body["features"]]
    assert len(seen) == 243 and len(set(seen)) == 243


def test_detail_and_not_found_inside_and_outside_scope(shared_app, shared_auth):
    client = shared_app.test_client()
    admin = shared_auth.headers("admin")
    squad1_grids = client.get("/api/v1/areas?kind=grid", headers=shared_auth.headers("officer1")).get_json()["features"]
    all_grids = client.get("/api/v1/areas?kind=grid", headers=admin).get_json()["features"]
    assert 0 < len(squad1_grids) < len(all_grids)
    own = squad1_grids[0]
    detail = client.get(f"/api/v1/areas/{own['id']}", headers=shared_auth.headers("officer1"))
    assert detail.status_code == 200 and detail.get_json() == own

    own_ids = {g["id"] for g in squad1_grids}
    other = next(g for g in all_grids if g["id"] not in own_ids)  # a grid of another squad
    assert client.get(f"/api/v1/areas/{other['id']}", headers=admin).status_code == 200
    hidden = client.get(f"/api/v1/areas/{other['id']}", headers=shared_auth.headers("officer1"))
    missing = client.get("/api/v1/areas/999999", headers=admin)
    # outside the caller's scope looks exactly like an id that does not exist
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json() and hidden.get_json()["code"] == "not_found"


def test_locate_names_grid_zone_and_town_and_nothing_outside(shared_app, shared_auth):
    client, headers = shared_app.test_client(), shared_auth.headers("admin")
    grid = client.get("/api/v1/areas?kind=grid&page_size=1&page=100", headers=headers).get_json()["features"][0]
    point = shape(grid["geometry"]).representative_point()
    found = client.get(f"/api/v1/areas/locate?lon={point.x}&lat={point.y}", headers=headers)
    assert found.status_code == 200
    body = found.get_json()
    assert body["grid"]["id"] == grid["id"] and body["grid"]["name"] == grid["properties"]["name"]
    assert body["zone"]["id"] == grid["properties"]["parent_id"]
    town = client.get("/api/v1/areas?kind=town", headers=headers).get_json()["features"][0]
    assert body["town"]["id"] == town["id"]

    x0, y0, x1, y1 = shape(town["geometry"]).bounds
    outside = client.get(f"/api/v1/areas/locate?lon={x1 + 0.05}&lat={y1 + 0.05}", headers=headers).get_json()
    assert outside == {"grid": None, "zone": None, "village": None, "town": None}

    bad = client.get("/api/v1/areas/locate?lon=116.0&lat=100", headers=headers)
    assert bad.status_code == 400 and "lat" in bad.get_json()["details"]["fields"]


# --- importing real files ---------------------------------------------------------------------------------


def _read_back(client, headers, ids: list[int]) -> list[dict]:
    features = []
    for area_id in ids:
        response = client.get(f"/api/v1/areas/{area_id}", headers=headers)
        assert response.status_code == 200
        features.append(response.get_json())
    return features


def test_haidian_streets_import_in_order_with_chinese_names_and_true_areas(empty_app, empty_admin, raw_files):
    client, headers = empty_app.test_client(), empty_admin.headers("importer")
    doc = json.loads(raw_files["haidian"])
    response = _upload(client, headers, raw_files["haidian"], kind="town", filename="海淀区街道.geojson")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["created_ids"]
    assert len(created) == 29 and created == sorted(created)
    features = _read_back(client, headers, created)
    for original, feature in zip(doc["features"], features):
        assert feature["properties"]["name"] == original["properties"]["name"]  # e.g. 学院路街道
        assert feature["properties"]["kind"] == "town"
        truth = _equal_area_truth_m2(shape(original["geometry"]))
        assert feature["properties"]["area_m2"] == pytest.approx(truth, rel=0.005)
    assert features[0]["properties"]["name"] == "学院路街道"


def test_seoul_dongs_import_with_codes_and_a_second_import_conflicts(empty_app, empty_admin, raw_files):
    client, headers = empty_app.test_client(), empty_admin.headers("importer")
    doc = json.loads(raw_files["seoul"])
    response = _upload(client, headers, raw_files["seoul"], kind="village", filename="seoul.geojson",
                       code_property="adm_cd")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["created_ids"]
    assert len(created) == 424 and created == sorted(created)
    features = _read_back(client, headers, created)
    for original, feature in zip(doc["features"], features):
        assert feature["properties"]["name"] == original["properties"]["name"]
        assert feature["properties"]["code"] == original["properties"]["adm_cd"]
        truth = _equal_area_truth_m2(shape(original["geometry"]))
        assert feature["properties"]["area_m2"] == pytest.approx(truth, rel=0.005)

    again = _upload(client, headers, raw_files["seoul"], kind="village", code_property="adm_cd")
    assert again.status_code == 409
    body = again.get_json()
    assert body["code"] == "duplicate" and doc["features"][0]["properties"]["adm_cd"] in body["message"]
    assert _area_count(client, headers) == 424


def test_san_francisco_neighbourhoods_import_with_true_areas(empty_app, empty_admin, raw_files):
    client, headers = empty_app.test_client(), empty_admin.headers("importer")
    doc = json.loads(raw_files["san_francisco"])
    response = _upload(client, headers, raw_files["san_francisco"], kind="zone")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["created_ids"]
    assert len(created) == 37
    for original, feature in zip(doc["features"], _read_back(client, headers, created)):
        assert feature["properties"]["name"] == original["properties"]["name"]
        assert feature["properties"]["area_m2"] == pytest.approx(
            _equal_area_truth_m2(shape(original["geometry"])), rel=0.005)


def test_tsinghua_utm_file_is_reprojected_into_beijing(empty_app, empty_admin, raw_files):
    client, headers = empty_app.test_client(), empty_admin.headers("importer")
    response = _upload(client, headers, raw_files["tsinghua"], kind="grid")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["source_crs"] == "EPSG:32649" and len(body["created_ids"]) == 1
    (feature,) = _read_back(client, headers, body["created_ids"])
    x0, y0, x1, y1 = shape(feature["geometry"]).bounds
    assert 116.2 < x0 < x1 < 116.4 and 39.9 < y0 < y1 < 40.1  # Haidian district, Beijing

    original = shape(json.loads(raw_files["tsinghua"])["features"][0]["geometry"])
    utm_planar_m2 = original.area
    assert feature["properties"]["area_m2"] == pytest.approx(utm_planar_m2, rel=0.005)
    # Beijing lies ~5° east of zone 49's central meridian, where UTM enlarges areas by ~0.4%; removing that
    # scale factor gives the ground area much more tightly.
    lon, lat = Transformer.from_crs("EPSG:32649", "OGC:CRS84", always_xy=True).transform(
        original.centroid.x, original.centroid.y)
    areal_scale = Proj("EPSG:32649").get_factors(lon, lat).areal_scale
    assert feature["properties"]["area_m2"] == pytest.approx(utm_planar_m2 / areal_scale, rel=0.0005)


# --- refusing broken files --------------------------------------------------------------------------------


def _as_linestring(doc):
    feature = doc["features"][5]
    feature["geometry"] = {"type": "LineString", "coordinates": feature["geometry"]["coordinates"][0][0]}
    return doc, 5, feature["properties"]["name"], ("LineString", "LineString")


def _out_of_range(doc):
    ring = doc["features"][2]["geometry"]["coordinates"][0][0]
    ring[3] = [ring[3][0], ring[3][1] + 60.0]
    return doc, 2, doc["features"][2]["properties"]["name"], ("经纬度", "range")


BROKEN_FEATURES = {"linestring": _as_linestring, "out_of_range": _out_of_range}


@pytest.mark.parametrize("breakage", sorted(BROKEN_FEATURES))
def test_a_broken_feature_refuses_the_whole_file_in_both_languages(shared_app, shared_auth, raw_files, breakage):
    client, headers = shared_app.test_client(), shared_auth.headers("admin")
    before = _area_count(client, headers)
    doc, index, name, (reason_zh, reason_en) = BROKEN_FEATURES[breakage](json.loads(raw_files["san_francisco"]))
    raw = _dumps(doc)

    zh = _upload(client, headers, raw).get_json()
    en_response = _upload(client, {**headers, "Accept-Language": "en"}, raw)
    assert en_response.status_code == 400
    en = en_response.get_json()
    assert zh["code"] == en["code"] == "import_rejected"
    assert zh["message"] == "文件中有 1 个要素无效，未导入任何内容"
    assert en["message"] == "1 features are invalid; nothing was imported"
    (zh_rejected,), (en_rejected,) = zh["details"]["rejected"], en["details"]["rejected"]
    assert zh_rejected["index"] == en_rejected["index"] == index and zh_rejected["name"] == name
    assert f"第 {index + 1} 个要素「{name}」" in zh_rejected["message"] and reason_zh in zh_rejected["message"]
    assert f"Feature {index + 1} ({name})" in en_rejected["message"] and reason_en in en_rejected["message"]
    assert _area_count(client, headers) == before


def test_projected_file_without_crs_is_explained(shared_app, shared_auth, raw_files):
    client, headers = shared_app.test_client(), shared_auth.headers("admin")
    before = _area_count(client, headers)
    doc = json.loads(raw_files["tsinghua"])
    del doc["crs"]
    zh = _upload(client, headers, _dumps(doc))
    en = _upload(client, {**headers, "Accept-Language": "en"}, _dumps(doc))
    assert zh.status_code == en.status_code == 400
    assert [r["index"] for r in zh.get_json()["details"]["rejected"]] == [0]
    assert "投影坐标" in zh.get_json()["details"]["rejected"][0]["message"]
    assert "projected" in en.get_json()["details"]["rejected"][0]["message"]
    assert _area_count(client, headers) == before


def test_a_file_that_is_not_json_is_refused(shared_app, shared_auth, raw_files):
    client, headers = shared_app.test_client(), shared_auth.headers("admin")
    before = _area_count(client, headers)
    truncated = raw_files["san_francisco"][:4000]
    zh = _upload(client, headers, truncated)
    en = _upload(client, {**headers, "Accept-Language": "en"}, truncated)
    assert zh.status_code == en.status_code == 400
    assert zh.get_json()["code"] == en.get_json()["code"] == "not_json"
    assert "JSON" in zh.get_json()["message"] and zh.get_json()["message"] != en.get_json()["message"]
    assert _area_count(client, headers) == before


def test_missing_file_part_and_wrong_parent_are_refused(shared_app, shared_auth, raw_files):
    client, headers = shared_app.test_client(), shared_auth.headers("admin")
    before = _area_count(client, headers)
    no_file = client.post("/api/v1/areas/import", data={"kind": "grid"}, content_type="multipart/form-data",
                          headers=headers)
    assert no_file.status_code == 400 and no_file.get_json()["code"] == "file_required"
    assert "file" in no_file.get_json()["details"]["fields"]

    grid = client.get("/api/v1/areas?kind=grid", headers=headers).get_json()["features"][0]
    wrong = _upload(client, headers, raw_files["san_francisco"], kind="grid", parent=grid["id"])
    assert wrong.status_code == 400 and wrong.get_json()["code"] == "invalid_parent"
    missing = _upload(client, headers, raw_files["san_francisco"], kind="grid", parent=999999)
    assert missing.status_code == 400 and missing.get_json()["code"] == "invalid_parent"
    assert _area_count(client, headers) == before


def test_grids_hang_under_the_zone_they_are_imported_into(app, auth, raw_files):
    client, headers = app.test_client(), auth.headers("admin")
    zone = client.get("/api/v1/areas?kind=zone", headers=headers).get_json()["features"][0]
    doc = json.loads(raw_files["san_francisco"])
    doc["features"] = doc["features"][:3]
    response = _upload(client, headers, _dumps(doc), kind="grid", parent=zone["id"])
    assert response.status_code == 201
    for feature in _read_back(client, headers, response.get_json()["created_ids"]):
        assert feature["properties"]["parent_id"] == zone["id"] and feature["properties"]["kind"] == "grid"


def test_unclosed_ring_and_small_bow_tie_are_repaired_and_listed(empty_app, empty_admin, raw_files):
    client, headers = empty_app.test_client(), empty_admin.headers("importer")
    doc = json.loads(raw_files["haidian"])
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    ring[20], ring[21] = ring[21], ring[20]  # 学院路街道: two neighbouring vertices swapped, a small bow-tie
    assert not shape(doc["features"][0]["geometry"]).is_valid
    doc["features"][2]["geometry"]["coordinates"][0].pop()  # a ring left open
    open_name = doc["features"][2]["properties"]["name"]
    response = _upload(client, headers, _dumps(doc))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    repaired = {r["index"]: r for r in body["repaired"]}
    codes = {i: [x["code"] for x in r["repairs"]] for i, r in repaired.items()}
    # (every Haidian shell also runs clockwise, so winding_normalized is listed for every street)
    # 马连洼街道, 永定路街道 and 青龙桥街道 (1, 13, 27) carry small loops in the published file itself
    assert {i for i, c in codes.items() if "self_intersection_repaired" in c} == {0, 1, 13, 27}
    assert {i for i, c in codes.items() if "ring_closed" in c} == {2}
    assert repaired[0]["name"] == "学院路街道"
    assert all("学院路街道" in x["message"] for x in repaired[0]["repairs"])
    assert repaired[2]["name"] == open_name
    assert any(open_name in x["message"] for x in repaired[2]["repairs"] if x["code"] == "ring_closed")
    assert len(body["created_ids"]) == 29


# --- who may import ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "status"), [
    ("officer1", 403), ("leader1", 403), ("supervisor1", 403), ("dept1", 403), ("commander1", 201),
])
def test_only_admins_and_commanders_import(app, auth, raw_files, username, status):
    client = app.test_client()
    doc = json.loads(raw_files["san_francisco"])
    doc["features"] = doc["features"][:2]
    before = _area_count(client, auth.headers("admin"))
    response = _upload(client, auth.headers(username), _dumps(doc), kind="village")
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["code"] == "forbidden"
    assert _area_count(client, auth.headers("admin")) == before + (2 if status == 201 else 0)
