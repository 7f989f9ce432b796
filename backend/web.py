"""Serves the built PWA at / and the Swagger UI assets for /api/docs from our own files (no CDN). Text assets go
out precompressed: the build writes a .br and a .gz next to each (pwa/scripts/compress.mjs), and a client that
accepts one gets it with Content-Encoding; nothing is compressed per request."""
from __future__ import annotations

import os
from pathlib import Path

import flask_swagger_ui
from flask import Flask, Response, jsonify, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import Accept
from werkzeug.routing import PathConverter

SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# Hashed build assets never change; the shell, manifest and service worker must be re-checked on every load.
IMMUTABLE_PREFIX = "assets/"
NO_CACHE = {"index.html", "sw.js", "manifest.webmanifest", "registerSW.js"}
# The variants the build may write next to an asset, smallest first: on equal preference, brotli wins.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


class AppPathConverter(PathConverter):
    """Any path outside /api: the API's URLs must not match the shell, or every API URL would also answer GET
    (and say so in Allow) where the API has no GET."""

    regex = r"(?!api/)[^/].*?"


def register_web(app: Flask) -> None:
    dist = Path(app.config["GRIDPATROL"].pwa_dist)
    app.url_map.converters["app_path"] = AppPathConverter

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(SWAGGER_DIST, filename, max_age=86400)

    @app.get("/")
    @app.get("/<app_path:path>")
    def pwa(path: str = "index.html") -> ResponseReturnValue:
        index = dist / "index.html"
        if not index.exists():
            return jsonify({
                "code": "pwa_not_built",
                "message": "PWA 尚未构建：请运行 make run（或在 pwa/ 中运行 npm run build）",
                "details": {"pwa_dist": str(dist)},
            }), 503
        target = dist / path
        if path and target.is_file() and _inside(dist, target):
            response = _send(dist, path, max_age=31536000 if path.startswith(IMMUTABLE_PREFIX) else 0)
        else:
            path = "index.html"  # client-side routes fall back to the shell
            response = _send(dist, "index.html", max_age=0)
        if path in NO_CACHE:
            response.headers["Cache-Control"] = "no-cache"
        if path == "sw.js":
            response.headers["Service-Worker-Allowed"] = "/"
        return response


def _send(dist: Path, path: str, max_age: int) -> Response:
    """The file, or its precompressed variant the client accepts best, with the type of the file itself."""
    available = [(encoding, suffix) for encoding, suffix in ENCODINGS if (dist / (path + suffix)).is_file()]
    encoding = best_encoding(request.accept_encodings, [e for e, _ in available])
    if encoding is None:
        response = send_from_directory(dist, path, max_age=max_age)
    else:
        # named as the file itself: its type, and the name a browser would save it under
        response = send_from_directory(dist, path + dict(available)[encoding], max_age=max_age,
                                       download_name=Path(path).name)
        response.headers["Content-Encoding"] = encoding
    if available:
        # caches between us and the phone must keep the variants apart, the plain one included
        response.vary.add("Accept-Encoding")
    return response


def best_encoding(accepted: Accept, available: list[str]) -> str | None:
    """The available encoding with the highest q in Accept-Encoding (ties: the order of `available`); None when
    the client accepts none of them, or sent no Accept-Encoding (the plain file is always acceptable)."""
    best, best_q = None, 0.0
    for encoding in available:
        q = accepted.quality(encoding)
        if q > best_q:
            best, best_q = encoding, q
    return best


def _inside(root: Path, target: Path) -> bool:
    return os.path.commonpath([root.resolve(), target.resolve()]) == str(root.resolve())
