"""Run the PWA's browser tests against a real server: a fresh SpatiaLite database with the demo town,
served by gunicorn on a free port, exactly as `make run` serves it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not become healthy within {timeout_s} s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gridpatrol-e2e-") as tmp:
        env = {**os.environ, "GRIDPATROL_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/e2e.db",
               "LOG_LEVEL": "WARNING"}
        env.pop("GRIDPATROL_ENV", None)
        subprocess.run([str(VENV_BIN / "gridpatrol"), "bootstrap"], env=env, check=True, cwd=REPO)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        access_log = f"{tmp}/access.log"
        server = subprocess.Popen(
            # Keep-alive longer than Node's fetch keeps an idle socket (4 s): with gunicorn's 2 s, a test's next
            # request could go out on a socket the server was closing that instant ("other side closed").
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--keep-alive", "10",
             # the server's request log goes to a file, shown only when a test failed
             "--access-logfile", access_log, "backend.wsgi:app"],
            env=env, cwd=REPO,
        )
        try:
            wait_healthy(url, server)
            code = subprocess.run(["npm", "run", "test:e2e"], cwd=REPO / "pwa",
                                  env={**env, "GRIDPATROL_URL": url}).returncode
            if code != 0:
                lines = Path(access_log).read_text(errors="replace").splitlines()
                print("\n".join(["last requests the server saw:", *lines[-80:]]), file=sys.stderr)
            return code
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
