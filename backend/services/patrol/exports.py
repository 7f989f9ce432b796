"""A patrol's track for reading and export: GeoJSON (lines never across a gap, gaps, dropped and flagged fixes),
GPX 1.1 and KML 2.2."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy.orm import Session

from ...models import Patrol
from .track import clean_fixes, flag_names, gap_json, iso, kept_track, load_fixes


def track_geojson(session: Session, patrol: Patrol) -> dict:
    """Kept fixes as lines that never cross a gap, gaps as separate features for display, dropped fixes as points."""
    fixes = load_fixes(session, patrol.id)
    t, lon, lat, reason = fixes.t, fixes.lon, fixes.lat, fixes.drop_reason
    clean = clean_fixes(fixes)
    lines = [[[float(lon[i]), float(lat[i])] for i in part] for part in clean.parts() if len(part) >= 2]
    features = [{"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                 "properties": {"kind": "track", "patrol_id": patrol.id, "point_count": patrol.point_count,
                                "distance_m": round(patrol.distance_m, 1)}}]
    for gap in clean.gaps:
        a, b = gap.start_index, gap.end_index
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [float(lon[a]), float(lat[a])], [float(lon[b]), float(lat[b])]]},
            "properties": {"kind": "gap", **gap_json(gap, t)}})
    for i in np.flatnonzero(~clean.kept):
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                         "properties": {"kind": "dropped", "reason": reason[i] or clean.drop_reason[i],
                                        "t": iso(t[i]), "flags": flag_names(int(clean.flags[i]))}})
    for i in np.flatnonzero(clean.kept & (clean.flags != 0)):  # kept, but leaders should judge them
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                         "properties": {"kind": "flagged", "flags": flag_names(int(clean.flags[i])), "t": iso(t[i])}})
    return {"type": "FeatureCollection", "features": features}


def track_gpx(session: Session, patrol: Patrol) -> str:
    """Kept fixes as GPX 1.1: one track, one segment per unbroken part (gaps stay gaps)."""
    t, lon, lat, breaks = kept_track(session, patrol)
    parts = np.split(np.arange(lon.size), np.flatnonzero(breaks)) if lon.size else []
    segments = "".join(
        "<trkseg>" + "".join(f'<trkpt lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"><time>{_iso_z(t[i])}</time></trkpt>'
                             for i in part) + "</trkseg>" for part in parts if part.size)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="GridPatrol" '
            'xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><name>patrol {patrol.id}</name>{segments}</trk></gpx>\n")


def track_kml(session: Session, patrol: Patrol) -> str:
    """Kept fixes as KML 2.2: one placemark, a LineString per unbroken part."""
    t, lon, lat, breaks = kept_track(session, patrol)
    parts = np.split(np.arange(lon.size), np.flatnonzero(breaks)) if lon.size else []
    lines = "".join("<LineString><coordinates>" + " ".join(f"{lon[i]:.7f},{lat[i]:.7f}" for i in part)
                    + "</coordinates></LineString>" for part in parts if part.size >= 2)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Placemark><name>patrol {patrol.id}</name><MultiGeometry>{lines}</MultiGeometry></Placemark>"
            "</Document></kml>\n")


def _iso_z(t_unix_s: float) -> str:
    return datetime.fromtimestamp(float(t_unix_s), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
