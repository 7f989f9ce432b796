"""`Server-Timing: app;dur=<ms>` on every response: the time spent in the app, shown by browser dev tools and
read by bench/http_batch.py (client-side timings would add the client's own JSON and network time)."""
from __future__ import annotations

import time

from flask import Flask, Response, g


def register_timing(app: Flask) -> None:
    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _stamp(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
