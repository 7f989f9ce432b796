"""On site: check-in flagged when far, what a submission needs (check-in, every item, a photo per failure, a
signature or a noted refusal), the notice's text read back from the PDF with every glyph embedded, the on-site
record, the business's page behind the team's code and its rating, a failure handed to the case cycle."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from backend.extensions.database import get_session
from backend.models import User

from ..resources.test_evidence import post_evidence
from .helpers import SIGNATURE, drawn_plan, ok, photo_id

PHOTO = "exif-samples__gps_DSCN0010.jpg"


@pytest.fixture
def photo(shared_data):
    return (shared_data / "photos" / PHOTO).read_bytes()


def start(app, client, auth):
    """A drawn inspection, its lead inspector's name and headers, and its detail."""
    _, _, draw = drawn_plan(client, auth)
    target = draw["targets"][0]
    with app.app_context():
        username = get_session().get(User, target["inspectors"][0]["id"]).username
    headers = auth.headers(username)
    detail = ok(client.get(f"/api/v1/inspections/{target['inspection_id']}", headers=headers))
    return detail, username, headers


def pdf_text(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages), reader


def test_a_check_in_far_from_the_business_is_flagged_and_a_retry_keeps_the_first(app, client, auth):
    detail, _, headers = start(app, client, auth)
    b = detail["business"]
    url = f"/api/v1/inspections/{detail['id']}/check-in"
    far = ok(client.post(url, headers=headers, json={"lon": b["lon"] + 0.004, "lat": b["lat"], "accuracy_m": 12}))
    assert far["check_in_flagged"] and 300 < far["check_in_distance_m"] < 400 and far["status"] == "in_progress"
    again = ok(client.post(url, headers=headers, json={"lon": b["lon"], "lat": b["lat"]}))
    assert again["check_in_distance_m"] == far["check_in_distance_m"]
    stranger = client.post(url, headers=auth.headers("officer20"), json={"lon": b["lon"], "lat": b["lat"]})
    assert stranger.status_code in (403, 404)


def test_what_a_submission_needs(app, client, auth, photo):
    detail, username, headers = start(app, client, auth)
    iid, b, items = detail["id"], detail["business"], detail["items"]
    submit = f"/api/v1/inspections/{iid}/submit"
    body = {"client_id": "submit-need-1", "signature": SIGNATURE, "signer_name": "王某"}
    r = client.post(submit, headers=headers, json=body)
    assert r.status_code == 409 and "签到" in r.get_json()["message"]
    ok(client.post(f"/api/v1/inspections/{iid}/check-in", headers=headers, json={"lon": b["lon"], "lat": b["lat"]}))
    r = client.post(submit, headers=headers, json=body)
    assert r.status_code == 409 and f"{len(items)} 项" in r.get_json()["message"]
    results = [{"item_code": i["code"], "result": "pass"} for i in items]
    results[2] = {"item_code": items[2]["code"], "result": "fail", "note": "灭火器过期"}
    r = client.post(submit, headers=headers, json={**body, "results": results})
    assert r.status_code == 409 and items[2]["code"] in r.get_json()["message"] and "照片" in r.get_json()["message"]
    wrong = client.put(f"/api/v1/inspections/{iid}/results", headers=headers,
                       json={"results": [{"item_code": "NOPE-001", "result": "pass"}]})
    assert wrong.status_code == 400
    evidence = photo_id(client, auth, username, photo, "need", (b["lon"], b["lat"]))
    results[2]["evidence"] = [evidence]
    unsigned = client.post(submit, headers=headers, json={**body, "results": results, "signature": None})
    assert unsigned.status_code == 400 and "签字" in unsigned.get_json()["message"]
    stored = ok(client.get(f"/api/v1/inspections/{iid}", headers=headers))
    assert stored["results"] == []  # a refused submission writes nothing, not even its results
    refused = client.post(submit, headers=headers, json={**body, "results": results, "signature": None,
                                                         "refused_to_sign": True})
    assert refused.status_code == 400 and "情况" in refused.get_json()["message"], refused.get_json()
    backwards = {**SIGNATURE, "strokes": [[{"x": 1, "y": 1, "t": 50}, {"x": 2, "y": 2, "t": 10}]]}
    assert client.post(submit, headers=headers, json={**body, "results": results,
                                                      "signature": backwards}).status_code == 400
    done = ok(client.post(submit, headers=headers, json={**body, "results": results}))
    assert done["status"] == "submitted" and done["failed"] == 1
    assert done["signature"]["strokes"] == SIGNATURE["strokes"]  # the strokes with their times, not a picture
    late = client.put(f"/api/v1/inspections/{iid}/results", headers=headers, json={"results": results[:1]})
    assert late.status_code == 409


def test_the_notice_pdf_says_everything_in_chinese_with_every_glyph_embedded(app, client, auth, photo, shared_data):
    detail, username, headers = start(app, client, auth)
    iid, b, items = detail["id"], detail["business"], detail["items"]
    ok(client.post(f"/api/v1/inspections/{iid}/check-in", headers=headers, json={"lon": b["lon"], "lat": b["lat"]}))
    evidence = photo_id(client, auth, username, photo, "notice", (b["lon"], b["lat"]))
    failed = [items[0], items[3]]
    results = [{"item_code": i["code"], "result": "pass"} for i in items]
    for i in (0, 3):
        results[i] = {"item_code": items[i]["code"], "result": "fail", "note": f"现场问题{i}", "evidence": [evidence]}
    before = client.get(f"/api/v1/inspections/{iid}/notice.pdf", headers=headers)
    assert before.status_code == 409
    done = ok(client.post(f"/api/v1/inspections/{iid}/submit", headers=headers,
                          json={"client_id": "submit-pdf-1", "results": results, "signature": SIGNATURE,
                                "signer_name": b["legal_rep"]}))
    response = client.get(f"/api/v1/inspections/{iid}/notice.pdf", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(response.data) < 400_000  # a subset of the font, not the whole CJK font (about 16 MB)
    text, reader = pdf_text(response.data)
    flat = re.sub(r"\s+", "", text)
    for expected in ("一次性告知书", done["notice_no"], b["name"], b["credit_code"], "示范镇人民政府",
                     "第1次检查", "申请回避", "行政复议", *(i["name"] for i in failed), "现场问题0", "现场问题3"):
        assert re.sub(r"\s+", "", expected) in flat, expected
    for member in done["team"]:
        assert member["name"] in flat and member["certificate_no"] in flat
    deadlines = [r["rectify_by"] for r in done["results"] if r["result"] == "fail"]
    for day in deadlines:
        y, m, d = (int(x) for x in day.split("-"))
        assert f"{y}年{m}月{d}日前" in flat
    assert items[1]["name"][:12] not in flat  # a passed item is not a problem told
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts and all(re.match(r"^/[A-Z]{6}\+", str(f["/BaseFont"])) for f in fonts)  # embedded subsets
    for f in fonts:
        descriptor = (f["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in f
                      else f["/FontDescriptor"])
        assert any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert "\ufffd" not in text  # every character came back: no glyph was missing
    # WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported: evidence still refuses a
    # truncated photo after a notice was made
    truncated = (shared_data / "photos" / "pillow__truncated_jpeg.jpg").read_bytes()
    refused = post_evidence(client, headers, "ins-truncated-after-notice", truncated)
    assert refused.status_code == 400 and refused.get_json()["code"] == "image_corrupt"
    record = client.get(f"/api/v1/inspections/{iid}/record.pdf", headers=headers)
    record_text = re.sub(r"\s+", "", pdf_text(record.data)[0])
    assert "现场检查笔录" in record_text and "不合格" in record_text and "SHA-256" in record_text


def test_the_business_scans_the_code_sees_who_and_what_and_rates_once(app, client, auth, photo):
    detail, username, headers = start(app, client, auth)
    code = detail["public_code"]
    page = client.get(f"/public/inspections/{code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and detail["business"]["name"] in html
    assert all(m["name"] in html and m["certificate_no"] in html for m in detail["team"])
    assert all(i["name"] in html for i in detail["items"]) and "待检查" in html
    assert "评价本次检查" not in html
    assert client.get("/public/inspections/not-a-code").status_code == 404
    early = client.post(f"/public/inspections/{code}/rating", json={"score": 5})
    assert early.status_code == 409
    b = detail["business"]
    ok(client.post(f"/api/v1/inspections/{detail['id']}/check-in", headers=headers,
                   json={"lon": b["lon"], "lat": b["lat"]}))
    ok(client.post(f"/api/v1/inspections/{detail['id']}/submit", headers=headers, json={
        "client_id": "submit-rate-1", "signature": SIGNATURE, "signer_name": "王某",
        "results": [{"item_code": i["code"], "result": "pass"} for i in detail["items"]]}))
    after = client.get(f"/public/inspections/{code}.json").get_json()
    assert after["status"] == "submitted" and {i["result"] for i in after["items"]} == {"pass"}
    assert client.post(f"/public/inspections/{code}/rating", json={"score": 9}).status_code == 400
    assert client.post(f"/public/inspections/{code}/rating", json={"score": None}).status_code == 400
    assert client.post(f"/public/inspections/{code}/rating", json=[1, 2]).status_code == 400
    assert client.post(f"/public/inspections/{code}/rating", data={"score": "4", "comment": "态度好"}).status_code == 303
    assert client.post(f"/public/inspections/{code}/rating", json={"score": 1}).status_code == 409
    assert ok(client.get(f"/api/v1/inspections/{detail['id']}", headers=headers))["rating"] == 4
    others = ok(client.get(f"/api/v1/inspections/{detail['id']}", headers=auth.headers("commander1")))
    assert others["public_code"] == code
    dept1 = auth.user("dept1")["id"]
    listed = ok(client.get(f"/api/v1/inspections?plan={detail['plan_id']}", headers=auth.headers("dept1")))
    assert listed  # the market regulator's items are checked: it sees the plan's inspections ...
    assert all((i["public_code"] is None) == (dept1 not in {m["id"] for m in i["team"]}) for i in listed)
    assert any(i["public_code"] is None for i in listed)  # ... but the code only where it is on the team


def test_a_refusal_to_sign_is_recorded_and_told_in_the_notice(app, client, auth):
    detail, _, headers = start(app, client, auth)
    iid, b = detail["id"], detail["business"]
    ok(client.post(f"/api/v1/inspections/{iid}/check-in", headers=headers, json={"lon": b["lon"], "lat": b["lat"]}))
    done = ok(client.post(f"/api/v1/inspections/{iid}/submit", headers=headers, json={
        "client_id": "submit-refused-1", "refused_to_sign": True, "refusal_note": "负责人拒绝签字，两名检查人员见证",
        "results": [{"item_code": i["code"], "result": "pass"} for i in detail["items"]]}))
    assert done["status"] == "submitted" and done["signature"]["refused"] is True
    text = re.sub(r"\s+", "", pdf_text(client.get(f"/api/v1/inspections/{iid}/notice.pdf", headers=headers).data)[0])
    assert "当事人拒绝签字（负责人拒绝签字，两名检查人员见证）" in text and "未发现问题" in text


def test_an_offline_visit_is_dated_when_it_was_signed_and_its_deadlines_run_from_then(app, client, auth, photo):
    from datetime import UTC, datetime, timedelta
    detail, username, headers = start(app, client, auth)
    iid, b, items = detail["id"], detail["business"], detail["items"]
    visited = datetime.now(UTC) - timedelta(days=2)  # inspected in a village without signal, synced two days later
    from backend.models import Inspection
    with app.app_context():  # drawn the week before
        get_session().get(Inspection, iid).created_at = datetime.now(UTC) - timedelta(days=7)
        get_session().commit()
    ok(client.post(f"/api/v1/inspections/{iid}/check-in", headers=headers,
                   json={"lon": b["lon"], "lat": b["lat"], "at": visited.isoformat()}))
    evidence = photo_id(client, auth, username, photo, "dated", (b["lon"], b["lat"]))
    results = [{"item_code": i["code"], "result": "pass"} for i in items]
    results[0] = {"item_code": items[0]["code"], "result": "fail", "evidence": [evidence]}
    signed = visited + timedelta(minutes=40)
    done = ok(client.post(f"/api/v1/inspections/{iid}/submit", headers=headers, json={
        "client_id": "submit-dated-1", "results": results, "signature": SIGNATURE,
        "signed_at": signed.isoformat()}))
    assert abs(datetime.fromisoformat(done["submitted_at"]) - signed) < timedelta(seconds=1)
    assert abs(datetime.fromisoformat(done["checked_in_at"]) - visited) < timedelta(seconds=1)
    from zoneinfo import ZoneInfo
    day = signed.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert done["results"][0]["rectify_by"] == str(day + timedelta(days=items[0]["rectify_days"]))
    future = client.post(f"/api/v1/inspections/{iid}/submit", headers=headers,
                         json={"client_id": "submit-dated-1", "signature": SIGNATURE})
    assert future.status_code == 200  # the same submission again


def test_a_failed_item_becomes_a_case_with_its_photo(app, client, auth, photo):
    detail, username, headers = start(app, client, auth)
    iid, b, items = detail["id"], detail["business"], detail["items"]
    item = next(i for i in items if i["case_category_code"])
    ok(client.post(f"/api/v1/inspections/{iid}/check-in", headers=headers, json={"lon": b["lon"], "lat": b["lat"]}))
    evidence = photo_id(client, auth, username, photo, "case", (b["lon"], b["lat"]))
    results = [{"item_code": i["code"], "result": "pass"} for i in items]
    results[items.index(item)] = {"item_code": item["code"], "result": "fail", "note": "油烟直排", "evidence": [evidence]}
    ok(client.post(f"/api/v1/inspections/{iid}/submit", headers=headers,
                   json={"client_id": "submit-case-1", "results": results, "signature": SIGNATURE}))
    passed = next(i for i in items if i["code"] != item["code"])
    assert client.post(f"/api/v1/inspections/{iid}/cases", headers=headers,
                       json={"item_code": passed["code"], "client_id": "case-from-1"}).status_code == 409
    made = ok(client.post(f"/api/v1/inspections/{iid}/cases", headers=headers,
                          json={"item_code": item["code"], "client_id": "case-from-2"}), 201)
    again = ok(client.post(f"/api/v1/inspections/{iid}/cases", headers=headers,
                           json={"item_code": item["code"], "client_id": "case-from-2"}), 200)
    assert again["case_id"] == made["case_id"]
    case = ok(client.get(f"/api/v1/cases/{made['case_id']}", headers=auth.headers("commander1")))
    assert case["source"] == "inspection" and case["category"]["code"] == item["case_category_code"]
    assert b["name"] in case["description"] and [e["evidence_id"] for e in case["evidence"]] == [evidence]
    linked = ok(client.get(f"/api/v1/inspections/{iid}", headers=headers))
    assert next(r for r in linked["results"] if r["item_code"] == item["code"])["case_id"] == made["case_id"]
