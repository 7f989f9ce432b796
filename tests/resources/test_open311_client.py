"""Open311 through a real client library, as a hotline system or citizen app would use it: georeport (a published
GeoReport v2 client, https://pypi.org/project/georeport/) against the app served over real HTTP, in JSON and in XML.
The library has no create call, so requests are posted as the spec's form, with the library's own HTTP client."""
from __future__ import annotations

import threading

import pytest
import requests
from georeport import GeoReport
from werkzeug.serving import make_server

from backend.extensions.database import get_session
from backend.services.integrations.api_keys import create_key

from .test_cases import SQUAD1


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        session = get_session()
        _, key = create_key(session, "市民热线 app")
        session.commit()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2", key
    server.shutdown()


def test_a_real_open311_client_lists_services_posts_and_reads_requests(served):
    root, key = served
    as_json, as_xml = GeoReport(root, api_key=key), GeoReport(root, api_key=key, output_format="xml")

    services = as_json.get_service_list()
    codes = {s["service_code"] for s in services}
    assert len(services) >= 40 and "SZSS-01" in codes
    xml_codes = {s["service_code"] for s in as_xml.get_service_list()}
    assert xml_codes == codes
    assert as_json.get_service_definition("SZSS-01")["service_code"] == "SZSS-01"

    posted = requests.post(f"{root}/requests.json", data={
        "api_key": key, "service_code": "SZSS-01", "lat": SQUAD1[1], "long": SQUAD1[0],
        "description": "人行道上井盖丢了，晚上很危险", "address_string": "官道村村委会门口", "email": "caller@example.cn"},
        timeout=10)
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]

    read = as_json.get_service_request(request_id)
    assert read["service_request_id"] == request_id and read["status"] == "open"
    assert read["service_code"] == "SZSS-01" and read["description"].startswith("人行道上井盖丢了")
    assert read["lat"] == pytest.approx(SQUAD1[1]) and "caller@example.cn" not in str(read)
    in_xml = as_xml.get_service_request(request_id)
    assert in_xml["service_request_id"] == request_id and in_xml["status"] == "open"
    assert float(in_xml["lat"]) == pytest.approx(SQUAD1[1]) and in_xml["service_code"] == "SZSS-01"

    listed = as_json.get_service_requests(service_code="SZSS-01", status="open")
    assert request_id in {r["service_request_id"] for r in listed}
    several = as_json.get_service_requests(service_request_id=request_id)
    assert [r["service_request_id"] for r in several] == [request_id]

    with pytest.raises(requests.HTTPError) as refused:
        as_json.get_service_request("999999")
    assert refused.value.response.status_code == 404
    assert refused.value.response.json()[0]["code"] == 404  # the spec's error format, read by the same client
