"""A real RFC 3161 timestamp authority on localhost: `openssl ts -reply` behind a small HTTP server, with its own CA
and a TSA certificate made here (critical extendedKeyUsage timeStamping, as RFC 3161 §2.3 requires)."""
from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL_CONFIG = """
[ tsa ]
default_tsa = local_tsa

[ local_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GridPatrol test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(directory: Path, common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def make_tsa_cert(directory: Path, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("GridPatrol test TSA")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca_key, hashes.SHA256()))
    (directory / "tsa.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "tsa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))


@dataclass
class LocalTsa:
    url: str
    ca_cert: Path
    directory: Path
    requests: int = 0


def serve_tsa():
    """Yields a running LocalTsa; stops it after."""
    with tempfile.TemporaryDirectory(prefix="gridpatrol-tsa-") as tmp:
        directory = Path(tmp)
        ca_key, ca_cert = make_ca(directory, "GridPatrol test TSA root")
        make_tsa_cert(directory, ca_key, ca_cert)
        (directory / "serial").write_text("01\n")
        config = directory / "openssl.cnf"
        config.write_text(OPENSSL_CONFIG.format(dir=directory))
        lock = threading.Lock()
        tsa = LocalTsa("", directory / "ca.crt", directory)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                query = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:  # openssl ts increments one serial file
                    tsa.requests += 1
                    reply = subprocess.run(["openssl", "ts", "-reply", "-config", str(config), "-queryfile",
                                            "/dev/stdin", "-out", "/dev/stdout"], input=query,
                                           capture_output=True, check=True).stdout
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        tsa.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield tsa
        finally:
            server.shutdown()
            server.server_close()
