"""RFC 3161 timestamps of the ledger's day roots, from the timestamp authority at TSA_URL (rfc3161-client).

A timestamp proves the root existed by the TSA's time, signed by a key neither we nor whoever controls our
server holds: the strongest of the three vouchers a day root has (ledger.py). The request is over the root's
32 bytes with SHA-256; the answer is kept whole (DER) so that anyone can check it again, with our CLI or with
`openssl ts -verify`.
"""
from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cryptography.x509

log = logging.getLogger(__name__)


class TimestampError(Exception):
    pass


@dataclass
class Timestamper:
    url: str
    timeout_s: float = 10.0

    def stamp(self, data: bytes) -> bytes:
        """The TSA's TimeStampResp (DER) for `data`, checked to answer our request (status, nonce, imprint)."""
        import rfc3161_client as tsp

        request = tsp.TimestampRequestBuilder().data(data).hash_algorithm(tsp.HashAlgorithm.SHA256) \
            .nonce(nonce=True).cert_request(cert_request=True).build()
        http = urllib.request.Request(self.url, data=request.as_bytes(), method="POST",
                                      headers={"Content-Type": "application/timestamp-query"})
        try:
            with urllib.request.urlopen(http, timeout=self.timeout_s) as answer:
                body = answer.read()
        except (urllib.error.URLError, OSError) as e:
            raise TimestampError(f"the TSA at {self.url} did not answer: {e}") from e
        try:
            response = tsp.decode_timestamp_response(body)
        except ValueError as e:
            raise TimestampError(f"the TSA's answer is not a timestamp response: {e}") from e
        if response.status not in (tsp.PKIStatus.GRANTED, tsp.PKIStatus.GRANTED_WITH_MODS):
            raise TimestampError(f"the TSA refused: status {response.status} {response.status_string}")
        if response.tst_info.nonce != request.nonce:
            raise TimestampError("the TSA's answer is not for our request (nonce)")
        if response.tst_info.message_imprint.message != request.message_imprint.message:
            raise TimestampError("the TSA timestamped something else (message imprint)")
        return body

    def stamp_safely(self, data: bytes) -> tuple[str | None, str | None]:
        """(base64 of the answer, None), or (None, why): a TSA that is down must not stop the day's seal."""
        try:
            return base64.b64encode(self.stamp(data)).decode(), None
        except TimestampError as e:
            log.warning("evidence ledger: no timestamp: %s", e)
            return None, str(e)


def timestamper_from_settings(settings: object) -> Timestamper | None:
    url = getattr(settings, "tsa_url", "")
    return Timestamper(url, getattr(settings, "tsa_timeout_s", 10.0)) if url else None


@dataclass
class TimestampCheck:
    ok: bool
    gen_time: datetime | None = None
    tsa: str | None = None
    problem: str | None = None


def load_roots(path: str | Path) -> list[cryptography.x509.Certificate]:
    return cryptography.x509.load_pem_x509_certificates(Path(path).read_bytes())


def check(token_b64: str, data: bytes, roots: list[cryptography.x509.Certificate]) -> TimestampCheck:
    """Whether the TSA's answer is over `data` and signed by a TSA certificate that chains to `roots`."""
    import rfc3161_client as tsp

    try:
        response = tsp.decode_timestamp_response(base64.b64decode(token_b64, validate=True))
    except ValueError as e:
        return TimestampCheck(False, problem=f"the timestamp cannot be read: {e}")
    info = response.tst_info
    gen_time = info.gen_time
    if not roots:
        return TimestampCheck(False, gen_time, problem="no TSA root certificate to check it with (TSA_CA_CERT)")
    builder = tsp.VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except (tsp.VerificationError, ValueError) as e:
        return TimestampCheck(False, gen_time, problem=f"the timestamp does not verify: {e}")
    return TimestampCheck(True, gen_time, _tsa_name(response))


def _tsa_name(response: object) -> str | None:
    try:
        certs = [cryptography.x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return None
    leaves = [c for c in certs if not _is_ca(c)]
    return leaves[0].subject.rfc4514_string() if leaves else None


def _is_ca(cert: cryptography.x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(cryptography.x509.BasicConstraints).value.ca)
    except cryptography.x509.ExtensionNotFound:
        return False
