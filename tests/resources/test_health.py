"""The service answers health checks with the database kind and schema revision."""
from backend.migrate import head_revision


def test_health_names_database_and_revision(client, databases):
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok"
    assert body["database"] == databases.kind
    assert body["revision"] == head_revision()
