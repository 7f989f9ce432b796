"""GPX import: real files from the shared data, namespaces, routes, times and the refusals."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from geo.gpx import MAX_GPX_POINTS, GpxError, parse_gpx

GPX10 = "http://www.topografix.com/GPX/1/0"
GPX11 = "http://www.topografix.com/GPX/1/1"


def _doc(body: str, namespace: str | None = GPX11, version: str = "1.1") -> bytes:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><gpx version="{version}"{xmlns}>{body}</gpx>'.encode()


def _pt(lat: float, lon: float, inner: str = "", tag: str = "trkpt") -> str:
    return f'<{tag} lat="{lat}" lon="{lon}">{inner}</{tag}>'


@pytest.fixture(scope="module")
def gps_dir(shared_data: Path) -> Path:
    return shared_data / "gps"


@pytest.mark.parametrize(
    ("name", "points", "segments"),
    [
        # korita and cerknicko each start with an empty <trkseg/>: it holds nothing and gets no number.
        ("gpxpy__korita-zbevnica.gpx", 871, 3),
        ("gpxpy__cerknicko-jezero.gpx", 296, 7),
        ("gpxpy__Mojstrovka.gpx", 184, 1),
        ("gpxpy__around-visnjan-with-car.gpx", 104, 1),
        ("gpsbabel__mtk_logger.gpx", 817, 3),
        ("gpsbabel__sbn-v13.gpx", 3453, 1),
        ("gpsbabel__skytraq-miniHomer2_8.gpx", 8713, 1),
    ],
)
def test_real_files_parse_every_track_point(gps_dir: Path, name: str, points: int, segments: int) -> None:
    raw = (gps_dir / name).read_bytes()
    parsed = parse_gpx(raw)
    assert parsed.point_count == points
    assert parsed.segment_count == segments
    # Waypoints are not fixes of the track, so they are not counted.
    assert raw.count(b"<trkpt") == points
    assert np.all(np.diff(parsed.segment) >= 0)
    assert np.all((parsed.lat >= -90) & (parsed.lat <= 90) & (parsed.lon >= -180) & (parsed.lon <= 180))


def test_sbn_hdop_sub_second_times_and_accuracy_estimate(gps_dir: Path) -> None:
    parsed = parse_gpx((gps_dir / "gpsbabel__sbn-v13.gpx").read_bytes())
    assert parsed.version == "1.0"
    # First fix of the file: 2010-02-01T12:31:38.545Z, hdop 3.2, 3 satellites, <speed> 12.05.
    assert parsed.t_unix_s[0] == pytest.approx(1265027498.545, abs=1e-6)
    assert parsed.hdop[0] == pytest.approx(3.2)
    assert parsed.sat[0] == 3
    assert parsed.speed_mps[0] == pytest.approx(12.05)
    # Sub-second times survive parsing: as many non-zero fractions as the file writes.
    raw = (gps_dir / "gpsbabel__sbn-v13.gpx").read_text()
    fractions = re.findall(r"<time>[^<]*\.(\d+)Z</time>", raw)
    assert np.count_nonzero(parsed.t_unix_s % 1.0 > 0) == sum(int(f) > 0 for f in fractions) > 1000
    has_hdop = ~np.isnan(parsed.hdop)
    np.testing.assert_allclose(parsed.accuracy_m[has_hdop], parsed.hdop[has_hdop] * 5.0)
    assert np.isnan(parsed.accuracy_m[~has_hdop]).all()  # no hdop, no estimate: unknown, not bad


def test_mojstrovka_times_are_the_bogus_1901_ones(gps_dir: Path) -> None:
    parsed = parse_gpx((gps_dir / "gpxpy__Mojstrovka.gpx").read_bytes())
    # 1901-12-13T20:45:52Z is INT32_MIN seconds; the 7 fraction digits are read to the microsecond.
    assert np.all(parsed.t_unix_s < -2_147_483_000)
    assert parsed.t_unix_s[0] == pytest.approx(-2147483647.792657, abs=1e-5)


@pytest.mark.parametrize(("namespace", "version"), [(GPX10, "1.0"), (GPX11, "1.1"), (None, "1.1")])
def test_namespaces_tracks_segments_and_routes(namespace: str | None, version: str) -> None:
    t = "<time>2024-05-01T08:00:00Z</time>"
    body = (
        "<trk><trkseg>" + _pt(40.0, 116.3, t) + _pt(40.001, 116.3) + "</trkseg>"
        "<trkseg></trkseg><trkseg>" + _pt(40.002, 116.3, "<ele>50.5</ele>") + "</trkseg></trk>"
        "<trk><trkseg>" + _pt(40.003, 116.3) + "</trkseg></trk>"
        "<rte>" + _pt(40.004, 116.3, tag="rtept") + _pt(40.005, 116.3, tag="rtept") + "</rte>"
        '<wpt lat="1" lon="1"/>'
    )
    parsed = parse_gpx(_doc(body, namespace, version))
    assert parsed.point_count == 6
    assert parsed.segment.tolist() == [0, 0, 1, 2, 3, 3]
    assert parsed.track.tolist() == [0, 0, 0, 1, 2, 2]
    assert parsed.t_unix_s[0] == 1714550400.0
    assert np.isnan(parsed.t_unix_s[1:]).all()  # missing time is NaN, left for clean_track to judge
    assert parsed.ele_m[2] == 50.5
    assert np.isnan(parsed.accuracy_m).all()  # no hdop and no explicit accuracy: unknown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T08:00:00Z", 1714550400.0),
        ("2024-05-01T16:00:00+08:00", 1714550400.0),
        ("2024-05-01T08:00:00.25Z", 1714550400.25),
        ("2024-05-01T08:00:00", 1714550400.0),  # GPX times are UTC even without a suffix
    ],
)
def test_time_formats(text: str, expected: float) -> None:
    parsed = parse_gpx(_doc("<trk><trkseg>" + _pt(40, 116, f"<time>{text}</time>") + "</trkseg></trk>"))
    assert parsed.t_unix_s[0] == pytest.approx(expected)


def test_unreadable_time_is_nan_and_explicit_accuracy_wins_over_hdop() -> None:
    inner = "<time>yesterday</time><hdop>20</hdop><extensions><hacc>8</hacc></extensions>"
    parsed = parse_gpx(_doc("<trk><trkseg>" + _pt(40, 116, inner) + "</trkseg></trk>"))
    assert np.isnan(parsed.t_unix_s[0])
    assert parsed.accuracy_m[0] == 8.0


def _error(raw: bytes) -> GpxError:
    with pytest.raises(GpxError) as info:
        parse_gpx(raw)
    err = info.value
    assert err.message_zh and err.message_en and str(err) == err.message_en
    return err


def test_doctype_and_entities_are_refused_before_expansion() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        b'<trkpt lat="40" lon="116"><name>&b;</name></trkpt></trkseg></trk></gpx>'
    )
    err = _error(laughs)
    assert err.code == "doctype_refused"
    assert "DOCTYPE" in err.message_zh
    assert _error(b'<!DOCTYPE gpx SYSTEM "http://example.com/x.dtd"><gpx/>').code == "doctype_refused"
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE gpx><gpx/>'.encode("utf-16")
    assert _error(utf16).code == "doctype_refused"


@pytest.mark.parametrize(
    ("raw", "code", "zh_word"),
    [
        (b"lat,lon\n40,116\n", "not_xml", "XML"),
        (b"<gpx><trk>", "not_xml", "XML"),
        (b'<kml xmlns="http://www.opengis.net/kml/2.2"/>', "not_gpx", "GPX"),
        (b'<gpx xmlns="http://example.com/other"/>', "not_gpx", "GPX"),
        (_doc("<trk><trkseg></trkseg></trk>"), "no_points", "轨迹点"),
        (_doc("<trk><trkseg>" + _pt(91.0, 116.0) + "</trkseg></trk>"), "out_of_range", "纬度"),
        (_doc("<trk><trkseg>" + _pt(40.0, 181.0) + "</trkseg></trk>"), "out_of_range", "经度"),
        (_doc('<trk><trkseg><trkpt lat="x" lon="116"/></trkseg></trk>'), "bad_coordinates", "经纬度"),
    ],
)
def test_refusals_have_a_code_and_both_languages(raw: bytes, code: str, zh_word: str) -> None:
    err = _error(raw)
    assert err.code == code
    assert zh_word in err.message_zh


def test_too_many_points_is_refused() -> None:
    body = "<trk><trkseg>" + '<trkpt lat="1" lon="1"/>' * (MAX_GPX_POINTS + 1) + "</trkseg></trk>"
    err = _error(_doc(body))
    assert err.code == "too_many_points"
    assert err.details["points"] == MAX_GPX_POINTS + 1
