"""A joint inspection end to end on the demo town: plan, approval, freeze, draw, the officer's list, check-in, item
results with photos, signature, submission once, the notice, the re-inspection task and a failure as a case."""
from __future__ import annotations

import pytest

from .helpers import SIGNATURE, drawn_plan, ok, photo_id

PHOTO = "exif-samples__gps_DSCN0010.jpg"


@pytest.fixture
def photo(shared_data):
    return (shared_data / "photos" / PHOTO).read_bytes()


def test_a_drawn_inspection_is_checked_signed_submitted_once_and_told_in_one_notice(client, auth, photo):
    plan, frozen, draw = drawn_plan(client, auth)
    assert len(draw["targets"]) >= 3 and all(len(t["inspectors"]) == 2 for t in draw["targets"])
    target = draw["targets"][0]
    inspector = next(t for t in (ok(client.get(f"/api/v1/users/{i['id']}", headers=auth.headers("admin")))
                                 for i in target["inspectors"]))
    officer = inspector["username"]
    mine = ok(client.get("/api/v1/inspections?mine=true", headers=auth.headers(officer)))
    inspection = next(i for i in mine if i["id"] == target["inspection_id"])
    assert inspection["public_code"] and inspection["status"] == "assigned"
    detail = ok(client.get(f"/api/v1/inspections/{inspection['id']}", headers=auth.headers(officer)))
    business = detail["business"]
    headers = auth.headers(officer)
    checked = ok(client.post(f"/api/v1/inspections/{inspection['id']}/check-in", headers=headers,
                             json={"lon": business["lon"] + 0.0005, "lat": business["lat"], "accuracy_m": 10}))
    assert 30 < checked["check_in_distance_m"] < 60 and not checked["check_in_flagged"]
    items = detail["items"]
    first, second = items[0]["code"], items[1]["code"]
    evidence = photo_id(client, auth, officer, photo, "fail-1", (business["lon"], business["lat"]))
    results = [{"item_code": i["code"], "result": "pass"} for i in items]
    results[0] = {"item_code": first, "result": "fail", "note": "后厨未公示", "evidence": [evidence]}
    results[1] = {"item_code": second, "result": "na"}
    ok(client.put(f"/api/v1/inspections/{inspection['id']}/results", headers=headers, json={"results": results}))
    body = {"client_id": "submit-0001", "signature": SIGNATURE, "signer_name": business["legal_rep"]}
    done = ok(client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=headers, json=body))
    assert done["status"] == "submitted" and done["notice_no"].startswith("综查告")
    again = ok(client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=headers, json=body))
    assert again["notice_no"] == done["notice_no"]
    other = client.post(f"/api/v1/inspections/{inspection['id']}/submit", headers=headers,
                        json={**body, "client_id": "submit-0002"})
    assert other.status_code == 409
    assert len(done["reinspection_ids"]) == 1
    re_id = done["reinspection_ids"][0]
    re = ok(client.get(f"/api/v1/inspections/{re_id}", headers=headers))
    assert re["kind"] == "reinspection" and [i["code"] for i in re["items"]] == [first]
    mine = ok(client.get("/api/v1/inspections?mine=true&kind=reinspection", headers=headers))
    assert [i["id"] for i in mine] == [re_id]
    pdf = client.get(f"/api/v1/inspections/{inspection['id']}/notice.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    record = client.get(f"/api/v1/inspections/{inspection['id']}/record.pdf", headers=headers)
    assert record.status_code == 200 and record.data[:5] == b"%PDF-"
    history = ok(client.get(f"/api/v1/businesses/{business['id']}", headers=headers))
    assert history["history"][0]["id"] == re_id and history["inspections_this_year"] == 1
