"""Open311 GeoReport v2: services from the categories, requests posted with an API key and read back in JSON and
XML with the fields and types real cities answer (the Bloomington files in ../shared/data/open311), the spec's
error format, and nothing public that names a reporter or carries a photo's metadata."""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from backend.extensions.database import get_session
from backend.services.integrations.api_keys import create_key, revoke_key

from .test_cases import SQUAD1, ok
from .test_evidence import post_evidence

BASE = "/open311/v2"


@pytest.fixture
def api_key(app):
    with app.app_context():
        session = get_session()
        _, key = create_key(session, "12345 热线")
        session.commit()
    return key


@pytest.fixture
def bloomington(shared_data):
    folder = shared_data / "open311"
    return (json.loads((folder / "open311status-2012mock__bloomington_requests.json").read_text()),
            json.loads((folder / "open311status-2012mock__bloomington_services.json").read_text()))


def post(client, api_key, **fields):
    body = {"api_key": api_key, "service_code": "SRHJ-01", "lat": SQUAD1[1], "long": SQUAD1[0],
            "description": "小区门口垃圾堆放三天了", "first_name": "伟", "last_name": "王", "email": "wang@example.cn",
            "phone": "13800000000", **fields}
    return client.post(f"{BASE}/requests.json", data=body)


def test_services_are_the_categories_shaped_as_real_cities_answer(client, bloomington):
    _, real = bloomington
    ours = ok(client.get(f"{BASE}/services.json"), 200)
    assert len(ours) >= 40 and {"SRHJ-01", "SZSS-01"} <= {s["service_code"] for s in ours}
    assert set(real[0]) <= set(ours[0])
    for key in real[0]:
        assert type(ours[0][key]) is type(real[0][key]), key
    definition = ok(client.get(f"{BASE}/services/SZSS-01.json"), 200)
    assert definition == {"service_code": "SZSS-01", "attributes": []}
    assert ET.fromstring(client.get(f"{BASE}/services.xml").data).find("service/service_code").text


def test_a_request_posted_with_a_key_is_a_case_read_back_like_bloomingtons(client, auth, api_key, bloomington):
    real, _ = bloomington
    answer = post(client, api_key, address_string="柳河镇官道村村口")
    assert answer.status_code == 201, answer.get_json()
    [created] = answer.get_json()
    assert isinstance(created["service_request_id"], str) and created["token"]
    [request] = ok(client.get(f"{BASE}/requests/{created['service_request_id']}.json"), 200)
    assert set(real[0]) <= set(request)  # every field a real city's requests.json has ...
    for key, value in real[1].items():  # ... with its JSON type (a request with a position)
        if value is not None and request[key] is not None:
            assert type(request[key]) is type(value) or {type(request[key]), type(value)} <= {int, float}, key
    assert request["status"] == "open" and request["service_code"] == "SRHJ-01"
    assert request["requested_datetime"].endswith("+08:00") and request["lat"] == SQUAD1[1]
    text = json.dumps(request, ensure_ascii=False)
    assert "王" not in text and "wang@example.cn" not in text and "13800000000" not in text  # no reporter
    case = ok(client.get(f"/api/v1/cases/{created['service_request_id']}", headers=auth.headers("leader1")), 200)
    assert case["source"] == "open311" and case["squad_id"] == 1 and case["address"] == "柳河镇官道村村口"
    tokens = ok(client.get(f"{BASE}/tokens/{created['token']}.json"), 200)
    assert tokens == [{"service_request_id": created["service_request_id"], "token": created["token"]}]
    listed = ok(client.get(f"{BASE}/requests.json?status=open&service_code=SRHJ-01"), 200)
    assert [r["service_request_id"] for r in listed] == [created["service_request_id"]]
    assert ok(client.get(f"{BASE}/requests.json?status=closed"), 200) == []
    xml = ET.fromstring(client.get(f"{BASE}/requests/{created['service_request_id']}.xml").data)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == created[
        "service_request_id"]


def test_the_real_bloomington_requests_posted_here(client, api_key, bloomington):
    """Their texts and services, posted as a hotline would; their own positions are in Indiana: refused."""
    real, _ = bloomington
    placed = [r for r in real if r["lat"] is not None]
    for n, r in enumerate(real):
        inside = post(client, api_key, description=r["description"], lat=SQUAD1[1] + n * 1e-4, long=SQUAD1[0])
        assert inside.status_code == 201, inside.get_json()
    outside = post(client, api_key, description=placed[0]["description"], lat=placed[0]["lat"],
                   long=placed[0]["long"])
    assert outside.status_code == 400
    [error] = outside.get_json()
    assert error["code"] == 400 and "范围" in error["description"]
    no_position = post(client, api_key, lat="", long="")
    assert no_position.status_code == 400 and no_position.get_json()[0]["code"] == 400
    assert len(ok(client.get(f"{BASE}/requests.json?page_size=100"), 200)) == len(real)


def test_a_retried_post_is_one_request(client, api_key):
    first = post(client, api_key).get_json()[0]
    again = post(client, api_key)
    assert again.status_code == 201 and again.get_json()[0]["service_request_id"] == first["service_request_id"]
    assert len(ok(client.get(f"{BASE}/requests.json"), 200)) == 1


def test_errors_in_the_specs_format_in_json_and_xml(app, client, api_key):
    for body, status in (({"api_key": "wrong"}, 403), ({"api_key": api_key, "service_code": "NOPE", "lat": 1,
                                                          "long": 1}, 400)):
        response = client.post(f"{BASE}/requests.json", data=body)
        [error] = response.get_json()
        assert response.status_code == status and error["code"] == status and error["description"]
        xml = ET.fromstring(client.post(f"{BASE}/requests.xml", data=body).data)
        assert xml.tag == "errors" and xml.find("error/code").text == str(status)
    assert client.get(f"{BASE}/requests/999999.json").get_json()[0]["code"] == 404
    with app.app_context():
        session = get_session()
        revoke_key(session, "12345 热线")
        session.commit()
    assert post(client, api_key).status_code == 403  # a revoked key is refused from then on


def test_a_public_photo_carries_no_metadata(client, auth, api_key, shared_data):
    photo = (shared_data / "photos" / "exif-samples__gps_DSCN0010.jpg").read_bytes()  # EXIF with GPS
    headers = auth.headers("officer1")
    shot = ok(post_evidence(client, headers, "open311-photo-1", photo, lon=SQUAD1[0], lat=SQUAD1[1]))
    case = ok(client.post("/api/v1/cases", headers=headers, json={
        "client_id": "open311-case-1", "category": "SRHJ-01", "lon": SQUAD1[0], "lat": SQUAD1[1],
        "evidence": [shot["id"]]}))
    [request] = ok(client.get(f"{BASE}/requests/{case['id']}.json"), 200)
    url = request["media_url"]
    assert url.endswith(f"/open311/v2/media/{shot['id']}.jpg")
    public = client.get(url.split("localhost", 1)[-1])
    assert public.status_code == 200 and public.mimetype == "image/jpeg"
    picture = Image.open(io.BytesIO(public.data))
    assert not picture.getexif() and "icc_profile" not in picture.info and "xmp" not in picture.info
    assert client.get(f"{BASE}/media/{shot['id'] + 1000}.jpg").status_code == 404


def test_discovery_names_the_endpoint_and_its_formats(client):
    found = ok(client.get(f"{BASE}/discovery.json"), 200)
    [endpoint] = found["endpoints"]
    assert endpoint["url"].endswith("/open311/v2") and "text/xml" in endpoint["formats"]
    assert ET.fromstring(client.get(f"{BASE}/discovery.xml").data).tag == "discovery"
    assert [f.text for f in ET.fromstring(client.get(f"{BASE}/discovery.xml").data).findall("endpoints/endpoint/formats/format")] == [
        "application/json", "text/xml"]


def test_admins_make_list_and_revoke_keys_through_the_api(client, auth):
    assert client.post("/api/v1/api-keys", headers=auth.headers("commander1"), json={"name": "x"}).status_code == 403
    made = ok(client.post("/api/v1/api-keys", headers=auth.headers("admin"), json={"name": "市民App"}))
    assert made["key"].startswith(made["prefix"])
    listed = ok(client.get("/api/v1/api-keys", headers=auth.headers("admin")), 200)
    assert [k["name"] for k in listed] == ["市民App"] and "key" not in listed[0]
    assert post(client, made["key"]).status_code == 201
    ok(client.post(f"/api/v1/api-keys/{made['id']}/revoke", headers=auth.headers("admin")), 200)
    assert post(client, made["key"]).status_code == 403
    again = client.post("/api/v1/api-keys", headers=auth.headers("admin"), json={"name": "市民App"})
    assert again.status_code == 409
