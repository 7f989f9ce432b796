"""The PWA's files as the server sends them: precompressed variants by Accept-Encoding (brotli first), with the
file's own type, the variant's length, Vary: Accept-Encoding, the same caching, and the plain file otherwise."""
from __future__ import annotations

import gzip

import pytest

from tests.conftest import _make_app

JS = b"export const answer = 42;\n" * 200
HTML = "<!doctype html><html lang=zh-CN><title>网格巡查</title><div id=app></div>".encode() * 20
# The server never decodes a variant: any bytes stand for brotli output (the standard library has no brotli).
FAKE_BR = b"\x8b\x02brotli-bytes-of-the-asset"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def dist(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "icons").mkdir()
    (root / "assets" / "app-1a2b.js").write_bytes(JS)
    (root / "assets" / "app-1a2b.js.gz").write_bytes(gzip.compress(JS))
    (root / "assets" / "app-1a2b.js.br").write_bytes(FAKE_BR)
    (root / "assets" / "only-gzip.css").write_bytes(b"a{color:red}" * 200)
    (root / "assets" / "only-gzip.css.gz").write_bytes(gzip.compress(b"a{color:red}" * 200))
    (root / "index.html").write_bytes(HTML)
    (root / "index.html.gz").write_bytes(gzip.compress(HTML))
    (root / "index.html.br").write_bytes(FAKE_BR + b"-index")
    (root / "icons" / "icon-192.png").write_bytes(PNG)
    return root


@pytest.fixture
def client(databases, dist, tmp_path):
    for app in _make_app(databases, "migrated", tmp_path, pwa_dist=str(dist)):
        yield app.test_client()


@pytest.mark.parametrize(("accept", "encoding"), [
    ("gzip, deflate, br", "br"),
    ("br", "br"),
    ("gzip", "gzip"),
    ("br;q=0, gzip;q=0.5", "gzip"),
    ("gzip;q=1.0, br;q=0.8", "gzip"),
    ("gzip;q=1.0, br;q=1.0", "br"),
    ("*", "br"),
    ("identity", None),
    ("deflate", None),
    (None, None),
])
def test_an_asset_goes_out_in_the_best_encoding_the_client_accepts(client, dist, accept, encoding):
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = client.get("/assets/app-1a2b.js", headers=headers)
    assert response.status_code == 200
    body = response.get_data()
    expected = {"br": FAKE_BR, "gzip": (dist / "assets" / "app-1a2b.js.gz").read_bytes(), None: JS}[encoding]
    assert body == expected
    assert response.headers.get("Content-Encoding") == encoding
    assert response.headers["Content-Length"] == str(len(expected))
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Content-Disposition"] == "inline; filename=app-1a2b.js"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    if encoding == "gzip":
        assert gzip.decompress(body) == JS


def test_the_variants_are_distinct_representations_for_caches(client):
    etags = {enc: client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": enc}).headers["ETag"]
             for enc in ("br", "gzip", "identity")}
    assert len(set(etags.values())) == 3
    again = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "br", "If-None-Match": etags["br"]})
    assert again.status_code == 304


def test_a_file_with_one_variant_falls_back_to_it_or_the_plain_file(client):
    gz = client.get("/assets/only-gzip.css", headers={"Accept-Encoding": "br, gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gz.mimetype == "text/css"
    plain = client.get("/assets/only-gzip.css", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data() == b"a{color:red}" * 200
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_a_file_without_variants_is_sent_as_it_is_without_vary(client):
    response = client.get("/icons/icon-192.png", headers={"Accept-Encoding": "gzip, br"})
    assert response.get_data() == PNG
    assert response.mimetype == "image/png"
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" not in response.headers.get("Vary", "")


@pytest.mark.parametrize("path", ["/", "/coverage", "/plan/today"])
def test_the_shell_and_client_routes_go_out_compressed_and_never_cached_stale(client, path):
    response = client.get(path, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert response.get_data() == FAKE_BR + b"-index"
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Accept-Encoding" in response.headers["Vary"]
    plain = client.get(path)
    assert plain.get_data() == HTML and "Content-Encoding" not in plain.headers


def test_head_answers_the_length_of_what_get_would_send(client, dist):
    response = client.head("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Length"] == str((dist / "assets" / "app-1a2b.js.gz").stat().st_size)


def test_api_paths_are_never_files_of_the_build(client):
    assert client.get("/api/nothing-here", headers={"Accept-Encoding": "br"}).status_code == 404
