"""The business register: the real credit codes in ../shared/data/ids pass and the invalid ones are refused with
their reason; a register from CSV (UTF-8 or GB18030) or XLSX is imported whole or not at all, with a report per
row; GCJ-02 positions are converted; businesses land in their grid, village and town."""
from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import Business, User
from backend.policies import village_area_ids
from geo.coords import wgs84_to_gcj02

from .helpers import ok

INSIDE = (115.589755, 38.105988)  # village 22, grid 122 of the demo town
HEADINGS = ["名称", "统一社会信用代码", "法定代表人", "地址", "经度", "纬度", "行业", "信用风险等级"]


def sample_codes(shared_data) -> list[dict]:
    with open(shared_data / "ids" / "uscc_sample.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def register_csv(rows: list[list], headings=HEADINGS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client, auth, data: bytes, filename="register.csv", user="commander1", **form):
    return client.post("/api/v1/businesses/import", headers=auth.headers(user), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename), **form})


def row(code: str, n: int, lon=INSIDE[0], lat=INSIDE[1], name=None) -> list:
    return [name or f"测试商户{n}", code, "张三", f"官道村{n}号", f"{lon + n * 1e-5:.6f}", f"{lat:.6f}", "零售", "C"]


def count(app) -> int:
    with app.app_context():
        return get_session().query(Business).count()


def test_the_real_codes_pass_and_land_in_their_grid(app, client, auth, shared_data):
    codes = [r["code"] for r in sample_codes(shared_data) if r["expected"].startswith("valid")]
    assert len(codes) == 101
    before = count(app)
    report = ok(upload(client, auth, register_csv([row(c, n) for n, c in enumerate(codes)])), 201)
    assert report["summary"] == {"rows": 101, "created": 101, "updated": 0, "skipped": 0, "rejected": 0}
    assert count(app) == before + 101
    spaced = next(r for r in report["rows"] if r["row"] == 2 + codes.index("91 110000 600037341L"))
    assert spaced["credit_code"] == "91110000600037341L"  # stored compact
    found = ok(client.get("/api/v1/businesses?q=91110000600037341L", headers=auth.headers("officer1")))
    assert len(found) == 1 and found[0]["grid_id"] and found[0]["village_id"] and found[0]["town_id"]


def test_bad_codes_are_refused_with_their_reason_and_nothing_is_imported(app, client, auth, shared_data):
    bad = {r["code"]: r["expected"] for r in sample_codes(shared_data) if not r["expected"].startswith("valid")}
    good = "91110000600037341L"
    typo = good[:-1] + "M"  # a wrong check character
    rows = [row(good, 0), row(typo, 1), *[row(c, i + 2) for i, c in enumerate(bad)], row(good, 9),
            ["无位置商户", "913101127033980359", "", "", "", "", "零售", "B"],
            row("92340621MA2UJXB52D", 10, lon=116.9, lat=39.9)]
    before = count(app)
    r = upload(client, auth, register_csv(rows))
    assert r.status_code == 422
    body = r.get_json()
    assert "整个文件均未导入" in body["message"]
    reports = {x["row"]: x for x in body["details"]["rows"]}
    assert reports[2]["outcome"] == "created"  # would have been: nothing is written while any row is rejected
    assert "校验位" in reports[3]["problems"][0]["message"]
    assert "18 位" in reports[4]["problems"][0]["message"]  # 12345
    assert "格式" in reports[5]["problems"][0]["message"]  # A111…
    assert "第 2 行重复" in reports[6]["problems"][0]["message"]
    assert "经纬度" in reports[7]["problems"][0]["message"]
    assert "不在本系统服务的乡镇范围内" in reports[8]["problems"][0]["message"]
    assert body["details"]["summary"]["rejected"] == 6
    assert count(app) == before
    english = client.post("/api/v1/businesses/import", headers=auth.headers("commander1", **{"Accept-Language": "en"}),
                          content_type="multipart/form-data",
                          data={"file": (io.BytesIO(register_csv([row(typo, 1)])), "r.csv")})
    assert english.status_code == 422 and "nothing was imported" in english.get_json()["message"]
    assert "check character" in english.get_json()["details"]["rows"][0]["problems"][0]["message"]


def test_gcj02_positions_are_converted_to_wgs84(client, auth):
    lon, lat = (float(v) for v in wgs84_to_gcj02(*INSIDE))
    rows = [["火星坐标商户", "92340621MA2UJYJPXJ", "李四", "官道村", f"{lon:.6f}", f"{lat:.6f}", "餐饮服务", "B",
             "GCJ02"]]
    ok(upload(client, auth, register_csv(rows, HEADINGS + ["坐标系"])), 201)
    found = ok(client.get("/api/v1/businesses?q=92340621MA2UJYJPXJ", headers=auth.headers("commander1")))[0]
    assert found["lon"] == pytest.approx(INSIDE[0], abs=1e-5) and found["lat"] == pytest.approx(INSIDE[1], abs=1e-5)
    one = {"credit_code": "92340603MA2PBQHD9N", "name": "高德地图取点", "lon": lon, "lat": lat, "crs": "gcj02"}
    made = ok(client.post("/api/v1/businesses", headers=auth.headers("admin"), json=one), 201)
    assert made["lon"] == pytest.approx(INSIDE[0], abs=1e-5) and made["grid_id"] == found["grid_id"]


def test_an_xlsx_register_with_other_headings_gb18030_csv_and_re_imports(client, auth):
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "企业名称", "社会信用代码", "法定代表人（负责人）", "经营场所", "经度", "纬度", "所属行业",
                  "风险等级", "年度检查上限"])
    sheet.append([1, "官道村便民超市", "92340621MA2UJUR13D", "王五", "官道村8号", INSIDE[0], INSIDE[1], "零售", "D类", 3])
    sheet.append([2, "官道村小吃", "92340621MA2UJYG57G", "赵六", "官道村9号", INSIDE[0] + 1e-4, INSIDE[1], "小吃服务", "a", None])
    data = io.BytesIO()
    book.save(data)
    report = ok(upload(client, auth, data.getvalue(), "名录.xlsx"), 201)
    assert report["summary"]["created"] == 2
    shop = ok(client.get("/api/v1/businesses?q=92340621MA2UJUR13D", headers=auth.headers("admin")))[0]
    assert (shop["risk_grade"], shop["annual_cap"], shop["legal_rep"]) == ("D", 3, "王五")
    gbk = register_csv([row("92340621MA2UJUR13D", 1, name="官道村便民超市（改名）")], encoding="gb18030")
    updated = ok(upload(client, auth, gbk), 201)
    assert updated["summary"]["updated"] == 1
    shop = ok(client.get(f"/api/v1/businesses/{shop['id']}", headers=auth.headers("admin")))
    assert shop["name"] == "官道村便民超市（改名）" and shop["annual_cap"] == 3  # a column not in the file is kept
    slim = register_csv([["官道村便民超市", "92340621MA2UJUR13D", f"{INSIDE[0]:.6f}", f"{INSIDE[1]:.6f}"]],
                        ["名称", "统一社会信用代码", "经度", "纬度"])
    ok(upload(client, auth, slim), 201)
    shop = ok(client.get(f"/api/v1/businesses/{shop['id']}", headers=auth.headers("admin")))
    # columns the file lacks never clear or reset what the register holds
    assert (shop["legal_rep"], shop["risk_grade"], shop["address"], shop["industry"]) == ("张三", "C", "官道村1号", "零售")
    refused = upload(client, auth, gbk, existing="reject")
    assert refused.status_code == 422 and "已有" in refused.get_json()["details"]["rows"][0]["problems"][0]["message"]


def test_who_may_write_the_register_and_what_a_broken_file_says(client, auth):
    data = register_csv([row("91340600MA2PEPM918", 1)])
    assert upload(client, auth, data, user="officer1").status_code == 403
    assert upload(client, auth, data, user="supervisor17").status_code == 403
    assert upload(client, auth, b"PK\x03\x04not really a zip", "x.xlsx").status_code == 400
    missing = upload(client, auth, "名称,地址\n某店,某地\n".encode())
    assert missing.status_code == 400 and "统一社会信用代码" in missing.get_json()["message"]
    r = client.post("/api/v1/businesses", headers=auth.headers("admin"),
                    json={"credit_code": "91340600MA2PEPM917", "name": "错码", "lon": INSIDE[0], "lat": INSIDE[1]})
    assert r.status_code == 400 and "校验位" in str(r.get_json()["details"])


def test_a_supervisor_sees_only_their_villages_businesses(app, client, auth):
    theirs = client.get("/api/v1/businesses?page_size=500", headers=auth.headers("supervisor17"))
    everyone = client.get("/api/v1/businesses?page_size=10", headers=auth.headers("officer1"))
    total = lambda r: json.loads(r.headers["X-Pagination"])["total"]  # noqa: E731
    assert total(everyone) == 2300
    with app.app_context():
        user = get_session().scalar(select(User).where(User.username == "supervisor17"))
        reach = village_area_ids(get_session(), user.village_id)
    assert 0 < total(theirs) < 200
    assert all(b["village_id"] in reach or b["grid_id"] in reach for b in theirs.get_json())
