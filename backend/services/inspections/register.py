"""The business register (检查对象名录库): credit codes checked with their GB 32100-2015 check character, positions
placed in grid, village, zone and town, and imports from CSV or XLSX that write every row or none."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely import from_wkb
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from geo.coords import gcj02_to_wgs84

from ...errors import InvalidInput, Text
from ...models import RISK_GRADES, Area, Business, Scenario

CODE_PROBLEMS = {
    stdnum_errors.InvalidLength: Text("统一社会信用代码应为 18 位", "A unified social credit code has 18 characters"),
    stdnum_errors.InvalidFormat: Text("统一社会信用代码格式不正确（含非法字符或登记管理部门代码有误）",
                                      "The credit code has characters that are not allowed"),
    stdnum_errors.InvalidChecksum: Text("统一社会信用代码校验位不正确，请核对是否抄错",
                                        "The credit code's check character is wrong; check for a typo"),
}
CRS_NAMES = {"wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84", "gcj02": "gcj02", "gcj-02": "gcj02",
             "火星坐标": "gcj02", "高德": "gcj02", "腾讯": "gcj02"}
IMPORT_MAX_ROWS = 50_000
DEFAULT_ANNUAL_CAP = 2  # inspections a year, all departments together, unless the register says otherwise


def check_code(raw: str) -> tuple[str | None, Text | None]:
    """(the compact code, None) or (None, why it is wrong)."""
    try:
        return uscc.validate(raw or ""), None
    except stdnum_errors.ValidationError as exc:
        return None, next((t for kind, t in CODE_PROBLEMS.items() if isinstance(exc, kind)),
                          CODE_PROBLEMS[stdnum_errors.InvalidFormat])


class AreaLocator:
    """Every grid, zone, village and town in memory with one STRtree: a whole register placed in one pass."""

    KINDS = ("grid", "zone", "village", "town")

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Area.id, Area.kind, func.ST_AsBinary(Area.geom))
                               .where(Area.kind.in_(self.KINDS)).order_by(Area.id)).all()
        self.ids = [r[0] for r in rows]
        self.kinds = [r[1] for r in rows]
        geoms = [from_wkb(bytes(r[2])) for r in rows]
        self.tree = shapely.STRtree(geoms)
        self.geoms = geoms

    def place(self, lonlats: list[tuple[float, float]]) -> list[dict[str, int | None]]:
        found: list[dict[str, int | None]] = [dict.fromkeys(self.KINDS) for _ in lonlats]
        if not lonlats or not self.ids:
            return found
        points = shapely.points(lonlats)
        point_idx, area_idx = self.tree.query(points, predicate="intersects")  # boundaries count as inside
        for p, a in sorted(zip(point_idx.tolist(), area_idx.tolist())):
            kind = self.kinds[a]
            if found[p][kind] is None or self.ids[a] < (found[p][kind] or 0):
                found[p][kind] = self.ids[a]
        return found


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    if crs == "gcj02":
        x, y = gcj02_to_wgs84(lon, lat)
        return float(x), float(y)
    return lon, lat


# --- import --------------------------------------------------------------------------------------------------

COLUMNS = {  # our field: the headings a county's spreadsheet uses
    "name": ("名称", "企业名称", "单位名称", "主体名称", "name"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "credit_code", "uscc"),
    "legal_rep": ("法定代表人", "法定代表人（负责人）", "负责人", "经营者", "legal_rep"),
    "phone": ("联系电话", "电话", "phone"),
    "address": ("地址", "经营地址", "经营场所", "住所", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "crs": ("坐标系", "crs"),
    "industry": ("行业", "行业类别", "所属行业", "industry"),
    "scenario": ("场景", "检查场景", "scenario"),
    "risk_grade": ("信用风险等级", "风险等级", "信用等级", "risk_grade"),
    "annual_cap": ("年度检查上限", "年检查次数上限", "annual_cap"),
}
REQUIRED = ("name", "credit_code")


@dataclass
class RowReport:
    row: int
    credit_code: str
    name: str
    outcome: str = "created"  # created | updated | skipped | rejected
    problems: list[dict] = field(default_factory=list)

    def reject(self, field_name: str, message: Text) -> None:
        self.outcome = "rejected"
        self.problems.append({"field": field_name, "message": message})


@dataclass
class ImportReport:
    rows: list[RowReport]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def summary(self) -> dict[str, Any]:
        return {"rows": len(self.rows), **{o: self.count(o) for o in ("created", "updated", "skipped", "rejected")}}


def read_table(raw: bytes, filename: str) -> list[list[Any]]:
    """Rows of cells from CSV (UTF-8 with or without BOM, or GB18030 as Chinese Excel saves it) or XLSX."""
    if raw[:4] == b"PK\x03\x04":
        return _read_xlsx(raw)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise InvalidInput("register_unreadable")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("register_unreadable")
    return [row for row in csv.reader(io.StringIO(text))]


def _read_xlsx(raw: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook: openpyxl raises several kinds
        raise InvalidInput("register_unreadable") from exc
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _heading_map(header: list[Any]) -> dict[str, int]:
    index: dict[str, int] = {}
    names = [str(h or "").strip().lower() for h in header]
    for ours, aliases in COLUMNS.items():
        for alias in aliases:
            if alias.lower() in names:
                index[ours] = names.index(alias.lower())
                break
    return index


def _cell(row: list[Any], index: dict[str, int], name: str) -> str:
    i = index.get(name)
    if i is None or i >= len(row) or row[i] is None:
        return ""
    value = row[i]
    if isinstance(value, float) and value.is_integer() and name not in ("lon", "lat"):
        value = int(value)
    return str(value).strip()


def import_register(session: Session, raw: bytes, filename: str, *, crs: str = "wgs84",
                    existing: str = "update") -> ImportReport:
    """Check every row; when one is rejected nothing is written (the report says which and why)."""
    table = read_table(raw, filename)
    header_row = 1  # the spreadsheet's own row numbers in the report
    while table and not any(str(c or "").strip() for c in table[0]):
        table.pop(0)
        header_row += 1
    if not table:
        raise InvalidInput("register_empty")
    index = _heading_map(table[0])
    missing = [c for c in REQUIRED + ("lon", "lat") if c not in index]
    if missing:
        raise InvalidInput("register_columns_missing", columns="、".join(COLUMNS[c][0] for c in missing),
                           details={"missing": missing})
    body = [(n, r) for n, r in enumerate(table[1:], start=header_row + 1) if any(str(c or "").strip() for c in r)]
    if len(body) > IMPORT_MAX_ROWS:
        raise InvalidInput("register_too_long", max=IMPORT_MAX_ROWS)
    scenarios = {code: code for code in session.scalars(select(Scenario.code))}
    scenarios |= {name: code for name, code in session.execute(select(Scenario.name, Scenario.code))}
    known = dict(session.execute(select(Business.credit_code, Business.id)).all())
    reports: list[RowReport] = []
    values: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for n, row in body:
        report, value = _check_row(n, row, index, crs, scenarios)
        code = value.get("credit_code")
        if code:
            if code in first_row:
                report.reject("credit_code", Text(f"与第 {first_row[code]} 行重复", f"Same code as row {first_row[code]}"))
            else:
                first_row[code] = n
                if code in known and report.outcome != "rejected":
                    if existing == "reject":
                        report.reject("credit_code", Text("名录库中已有该统一社会信用代码",
                                                          "The register already has this code"))
                    else:
                        report.outcome = "updated" if existing == "update" else "skipped"
        reports.append(report)
        values.append(value)
    placed = AreaLocator(session).place([(v["lon"], v["lat"]) for v in values if "lon" in v])
    it = iter(placed)
    for report, value in zip(reports, values):
        if "lon" not in value:
            continue
        areas = next(it)
        if areas["town"] is None and areas["grid"] is None and report.outcome != "rejected":
            report.reject("lon", Text("位置不在本系统服务的乡镇范围内，请核对经纬度和坐标系",
                                      "The position is outside the towns served here; check the coordinates and "
                                      "their system"))
        value.update(grid_id=areas["grid"], zone_id=areas["zone"], village_id=areas["village"],
                     town_id=areas["town"])
    result = ImportReport(reports)
    if result.count("rejected"):
        return result
    defaults = {"annual_cap": DEFAULT_ANNUAL_CAP, "scenario_code": None, "risk_grade": "B", "legal_rep": "",
                "phone": "", "address": "", "industry": ""}
    new = [{**defaults, **v} for r, v in zip(reports, values) if r.outcome == "created"]
    keys = sorted({k for v in new for k in v})
    new = [{k: v.get(k) for k in keys} for v in new]  # the same columns in every row: one executemany
    changed = [{**v, "b_id": known[v["credit_code"]]} for r, v in zip(reports, values) if r.outcome == "updated"]
    if new:
        # the table, not the ORM class: the ORM leaves out a row's None values, so rows with and without a village
        # became thousands of statements of a few rows each (PostGIS: 4 s of an import of 20,000)
        session.execute(insert(Business.metadata.tables["businesses"]), new)
    for v in changed:
        business_id = v.pop("b_id")
        session.execute(update(Business).where(Business.id == business_id)
                        .values(**v, version=Business.version + 1))
    return result


def _check_row(n: int, row: list[Any], index: dict[str, int], default_crs: str,
               scenarios: dict[str, str]) -> tuple[RowReport, dict[str, Any]]:
    raw_code = _cell(row, index, "credit_code")
    name = _cell(row, index, "name")
    report = RowReport(row=n, credit_code=raw_code, name=name)
    value: dict[str, Any] = {}
    code, problem = check_code(raw_code)
    if problem:
        report.reject("credit_code", problem if raw_code else Text("缺少统一社会信用代码", "No credit code"))
    else:
        report.credit_code = value["credit_code"] = code or ""
    if not name:
        report.reject("name", Text("缺少名称", "No name"))
    elif len(name) > 200:
        report.reject("name", Text("名称超过 200 字", "The name is longer than 200 characters"))
    value["name"] = name[:200]
    for key, limit in (("legal_rep", 64), ("phone", 32), ("address", 200), ("industry", 64)):
        text = _cell(row, index, key)[:limit]
        if text:  # an empty cell or a missing column never clears what the register holds
            value[key] = text
    crs_text = _cell(row, index, "crs").lower() or default_crs
    crs = CRS_NAMES.get(crs_text)
    if crs is None:
        report.reject("crs", Text(f"不认识的坐标系：{crs_text}（可填 WGS84 或 GCJ02）",
                                  f"Unknown coordinate system {crs_text} (WGS84 or GCJ02)"))
    lon_text, lat_text = _cell(row, index, "lon"), _cell(row, index, "lat")
    if not lon_text or not lat_text:
        report.reject("lon", Text("缺少经纬度", "No position"))
    else:
        try:
            lon, lat = float(lon_text), float(lat_text)
            if not (-180 <= lon <= 180 and -90 <= lat <= 90) or lon != lon or lat != lat:
                raise ValueError
            value["lon"], value["lat"] = to_wgs84(lon, lat, crs or "wgs84")
        except ValueError:
            report.reject("lon", Text("经纬度不是有效的数字", "The position is not a valid number"))
    grade = _cell(row, index, "risk_grade").upper().removesuffix("类").removesuffix("级")
    if grade and grade not in RISK_GRADES:
        report.reject("risk_grade", Text("信用风险等级应为 A、B、C、D、E 之一", "The risk grade is one of A–E"))
    elif grade:
        value["risk_grade"] = grade
    cap_text = _cell(row, index, "annual_cap")
    if cap_text:
        if not cap_text.isdigit() or int(cap_text) > 52:
            report.reject("annual_cap", Text("年度检查上限应为 0–52 的整数", "The annual cap is a whole number 0–52"))
        else:
            value["annual_cap"] = int(cap_text)
    scenario = _cell(row, index, "scenario")
    if scenario:
        if scenario not in scenarios:
            report.reject("scenario", Text(f"没有名为“{scenario}”的检查场景", f"No scenario {scenario}"))
        else:
            value["scenario_code"] = scenarios[scenario]
    return report, value
