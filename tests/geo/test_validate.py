"""Tests for geo.validate: real boundary files import; broken variants are repaired or explained."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, shape

from geo.projection import geodesic_area_m2
from geo.validate import MAX_FEATURES, GeoInputError, ParsedCollection, parse_boundary_collection


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _named_crs(name: str) -> dict[str, Any]:
    return {"type": "name", "properties": {"name": name}}


def _feature(parsed: ParsedCollection, index: int):
    (found,) = [f for f in parsed.features if f.index == index]
    return found


def _problem(parsed: ParsedCollection, index: int):
    (found,) = [p for p in parsed.problems if p.index == index]
    return found


def _assert_clean_multipolygons(parsed: ParsedCollection) -> None:
    for feature in parsed.features:
        geom = feature.geometry
        assert isinstance(geom, MultiPolygon) and geom.is_valid and not geom.has_z
        for polygon in geom.geoms:
            assert polygon.exterior.is_ccw
            assert not any(ring.is_ccw for ring in polygon.interiors)


# --- the real files ---------------------------------------------------------------------------------------


def test_seoul_imports_all_424_dongs_with_their_areas(boundary_bytes):
    raw = boundary_bytes["seoul"]
    parsed = parse_boundary_collection(raw, name_property="adm_nm")
    assert parsed.source_crs == "OGC:CRS84" and not parsed.problems
    assert [f.index for f in parsed.features] == list(range(424))
    _assert_clean_multipolygons(parsed)
    originals = [shape(f["geometry"]) for f in json.loads(raw)["features"]]
    for feature, original in zip(parsed.features, originals):
        assert geodesic_area_m2(feature.geometry) == pytest.approx(geodesic_area_m2(original), rel=1e-9)
    # The file's shells run clockwise (pre-RFC 7946 habit): normalized and said so.
    assert all([r.code for r in f.repairs] == ["winding_normalized"] for f in parsed.features)
    assert "종로구 사직동" in parsed.features[0].repairs[0].message_en


def test_san_francisco_keeps_holes_and_repairs_touching_rings(boundary_bytes):
    parsed = parse_boundary_collection(boundary_bytes["san_francisco"])
    assert len(parsed.features) == 37 and not parsed.problems
    _assert_clean_multipolygons(parsed)
    repaired = {
        f.properties["name"] for f in parsed.features
        if "self_intersection_repaired" in [r.code for r in f.repairs]
    }
    assert repaired == {"Marina", "Downtown/Civic Center", "North Beach"}
    # The file's 5 holes survive; the repair turns the loops where a ring touches itself into more holes.
    originals = [shape(f["geometry"]) for f in json.loads(boundary_bytes["san_francisco"])["features"]]
    for feature, original in zip(parsed.features, originals):
        holes_in, holes_out = (sum(len(p.interiors) for p in g.geoms) for g in (original, feature.geometry))
        if feature.properties["name"] in repaired:
            assert holes_out >= holes_in
        else:
            assert holes_out == holes_in
        assert geodesic_area_m2(feature.geometry) == pytest.approx(geodesic_area_m2(original), rel=1e-6)
    assert sum(len(p.interiors) for g in originals for p in g.geoms) == 5


def test_haidian_inverted_loop_is_repaired_and_reported(boundary_bytes):
    # 马连洼街道's ring crosses itself around an inverted lobe of ~0.7% of its area: make_valid fills it as a
    # map draws it (+1.5% over the signed shoelace sum), which is within the repair limit, and says so.
    parsed = parse_boundary_collection(boundary_bytes["haidian"])
    assert len(parsed.features) == 29 and not parsed.problems
    repairs = {r.code for r in parsed.features[1].repairs}
    assert "self_intersection_repaired" in repairs
    _assert_clean_multipolygons(parsed)


# --- file-level errors ------------------------------------------------------------------------------------


def test_truncated_file_is_not_json(boundary_bytes):
    with pytest.raises(GeoInputError) as caught:
        parse_boundary_collection(boundary_bytes["haidian"][:5000])
    assert caught.value.code == "not_json"
    assert "JSON" in caught.value.message_zh and caught.value.details["line"] > 1


def test_gbk_encoded_file_is_refused_as_not_utf8(boundary_bytes):
    gbk = boundary_bytes["haidian"].decode("utf-8").encode("gbk")
    with pytest.raises(GeoInputError) as caught:
        parse_boundary_collection(gbk)
    assert caught.value.code == "not_utf8" and "UTF-8" in caught.value.message_en


def test_bom_and_str_input_are_accepted(boundary_bytes):
    raw = boundary_bytes["san_francisco"]
    assert len(parse_boundary_collection(b"\xef\xbb\xbf" + raw).features) == 37
    assert len(parse_boundary_collection(raw.decode("utf-8")).features) == 37


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda doc: doc["features"][0], "not_feature_collection"),
        (lambda doc: doc["features"][0]["geometry"], "not_feature_collection"),
        (lambda doc: [doc], "not_feature_collection"),
        (lambda doc: {**doc, "features": []}, "empty_collection"),
        (lambda doc: {**doc, "features": [{"type": "Feature"}] * (MAX_FEATURES + 1)}, "too_many_features"),
        (lambda doc: {**doc, "crs": _named_crs("EPSG:999999")}, "unknown_crs"),
        (lambda doc: {**doc, "crs": _named_crs("北京54")}, "unknown_crs"),
        (lambda doc: {**doc, "crs": {"type": "link", "properties": {"href": "http://x"}}}, "unsupported_crs"),
        (lambda doc: {**doc, "crs": _named_crs("EPSG:4978")}, "unsupported_crs"),  # geocentric
    ],
)
def test_file_level_problems_raise_with_both_languages(haidian_doc, mutate, code):
    with pytest.raises(GeoInputError) as caught:
        parse_boundary_collection(_dumps(mutate(haidian_doc)))
    error = caught.value
    assert error.code == code and error.message_zh and error.message_en and isinstance(error.details, dict)


# --- feature-level problems -------------------------------------------------------------------------------


def test_linestring_feature_is_reported_by_name_and_the_rest_imports(haidian_doc):
    feature = haidian_doc["features"][5]
    feature["geometry"] = {"type": "LineString", "coordinates": feature["geometry"]["coordinates"][0]}
    parsed = parse_boundary_collection(_dumps(haidian_doc))
    problem = _problem(parsed, 5)
    name = feature["properties"]["name"]
    assert problem.code == "not_polygon" and problem.name == name
    assert name in problem.message_zh and "LineString" in problem.message_zh
    assert f"Feature 6 ({name})" in problem.message_en
    assert len(parsed.features) == 28  # every other feature still parses


def test_feature_without_geometry_is_not_polygon(haidian_doc):
    haidian_doc["features"][3]["geometry"] = None
    assert _problem(parse_boundary_collection(_dumps(haidian_doc)), 3).code == "not_polygon"


def test_coordinates_out_of_range_are_reported(haidian_doc):
    ring = haidian_doc["features"][0]["geometry"]["coordinates"][0]
    ring[3] = [ring[3][0], ring[3][1] + 60.0]
    problem = _problem(parse_boundary_collection(_dumps(haidian_doc)), 0)
    assert problem.code == "out_of_range" and problem.name == "学院路街道"
    assert "学院路街道" in problem.message_zh


def test_nan_coordinate_is_out_of_range(haidian_doc):
    haidian_doc["features"][0]["geometry"]["coordinates"][0][2][0] = float("nan")
    raw = json.dumps(haidian_doc)  # json writes NaN, and many tools read it back
    assert _problem(parse_boundary_collection(raw), 0).code == "out_of_range"


def test_malformed_coordinates_are_reported(haidian_doc):
    haidian_doc["features"][0]["geometry"]["coordinates"][0][2] = ["116.3", "north"]
    assert _problem(parse_boundary_collection(_dumps(haidian_doc)), 0).code == "bad_coordinates"


def test_projected_file_without_crs_is_explained(boundary_bytes):
    doc = json.loads(boundary_bytes["tsinghua"])
    del doc["crs"]
    parsed = parse_boundary_collection(_dumps(doc))
    assert parsed.source_crs == "OGC:CRS84" and not parsed.features
    problem = _problem(parsed, 0)
    assert problem.code == "out_of_range"
    assert "projected" in problem.message_en and "CRS" in problem.message_en
    assert "投影坐标" in problem.message_zh and "坐标系" in problem.message_zh


def test_haidian_projected_to_utm_reads_back_only_with_its_crs(haidian_doc):
    to_utm = Transformer.from_crs("OGC:CRS84", "EPSG:32650", always_xy=True)
    originals = [shape(f["geometry"]) for f in haidian_doc["features"]]
    projected = copy.deepcopy(haidian_doc)
    for feature, original in zip(projected["features"], originals):
        utm = shapely.transform(original, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
        feature["geometry"] = shapely.geometry.mapping(utm)
    without_crs = parse_boundary_collection(_dumps(projected))
    assert not without_crs.features
    assert {p.code for p in without_crs.problems} == {"out_of_range"} and len(without_crs.problems) == 29

    projected["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}}
    with_crs = parse_boundary_collection(_dumps(projected))
    assert with_crs.source_crs == "EPSG:32650" and len(with_crs.features) == 29
    direct = parse_boundary_collection(_dumps(haidian_doc))  # the same file in lon/lat, repaired the same way
    for feature, reference in zip(with_crs.features, direct.features):
        assert geodesic_area_m2(feature.geometry) == pytest.approx(geodesic_area_m2(reference.geometry), rel=1e-4)


def test_ring_of_three_positions_is_degenerate(haidian_doc):
    ring = haidian_doc["features"][4]["geometry"]["coordinates"][0]
    haidian_doc["features"][4]["geometry"]["coordinates"][0] = [ring[0], ring[1], ring[0]]
    assert _problem(parse_boundary_collection(_dumps(haidian_doc)), 4).code == "degenerate"


def test_large_bow_tie_is_refused():
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"名称": "八字地块"},
        "geometry": {"type": "Polygon", "coordinates": [
            [[115.5, 38.0], [115.6, 38.1], [115.6, 38.0], [115.5, 38.1], [115.5, 38.0]]
        ]},
    }]}
    problem = _problem(parse_boundary_collection(_dumps(doc)), 0)
    assert problem.code == "self_intersection" and problem.name == "八字地块" and "八字地块" in problem.message_zh


# --- repairs ----------------------------------------------------------------------------------------------


def test_unclosed_ring_is_closed_and_reported(haidian_doc):
    original = shape(haidian_doc["features"][0]["geometry"])
    haidian_doc["features"][0]["geometry"]["coordinates"][0].pop()
    feature = _feature(parse_boundary_collection(_dumps(haidian_doc)), 0)
    repair = next(r for r in feature.repairs if r.code == "ring_closed")
    assert "学院路街道" in repair.message_zh and "closed" in repair.message_en
    assert geodesic_area_m2(feature.geometry) == pytest.approx(geodesic_area_m2(original), rel=1e-9)


def test_duplicate_vertices_are_dropped_and_z_ignored(haidian_doc):
    ring = haidian_doc["features"][0]["geometry"]["coordinates"][0]
    ring.insert(5, list(ring[5]))
    ring.insert(5, list(ring[5]))
    haidian_doc["features"][0]["geometry"]["coordinates"][0] = [[x, y, 52.0] for x, y in ring]
    feature = _feature(parse_boundary_collection(_dumps(haidian_doc)), 0)
    assert not feature.geometry.has_z
    repair = next(r for r in feature.repairs if r.code == "duplicate_vertices_removed")
    assert "2" in repair.message_en
    assert len(feature.geometry.geoms[0].exterior.coords) == len(ring) - 2


def test_small_bow_tie_from_swapped_vertices_is_repaired(haidian_doc):
    ring = haidian_doc["features"][0]["geometry"]["coordinates"][0]
    original = shape(haidian_doc["features"][0]["geometry"])
    ring[20], ring[21] = ring[21], ring[20]  # a typical digitizing slip: two neighbours in the wrong order
    assert not shape(haidian_doc["features"][0]["geometry"]).is_valid
    feature = _feature(parse_boundary_collection(_dumps(haidian_doc)), 0)
    assert "self_intersection_repaired" in [r.code for r in feature.repairs]
    assert feature.geometry.is_valid
    assert geodesic_area_m2(feature.geometry) == pytest.approx(geodesic_area_m2(original), rel=0.01)


def test_counter_clockwise_file_needs_no_winding_repair(haidian_doc):
    for feature in haidian_doc["features"]:
        geometry = shapely.orient_polygons(shape(feature["geometry"]), exterior_cw=False)
        feature["geometry"] = shapely.geometry.mapping(geometry)
    parsed = parse_boundary_collection(_dumps(haidian_doc))
    assert not any(r.code == "winding_normalized" for f in parsed.features for r in f.repairs)


def test_name_property_chooses_the_label(boundary_bytes):
    doc = json.loads(boundary_bytes["seoul"])
    doc["features"][7]["geometry"] = {"type": "Point", "coordinates": [126.97, 37.57]}
    problem = _problem(parse_boundary_collection(_dumps(doc), name_property="adm_cd2"), 7)
    assert problem.name == doc["features"][7]["properties"]["adm_cd2"]
    assert problem.name in problem.message_en
