"""C2PA-signed photos for the tests, made here from the shared photos: a test root CA and a signing certificate
with what c2pa-rs asks of one (critical digitalSignature key usage, the emailProtection EKU, not a CA, key ids),
c2pa's Builder to sign, and the ways a signed file gets damaged (pixels changed after signing, a broken manifest)."""
from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CAMERA = "GridPatrol Test Camera"  # the claim generator's name
SIGNER_ORG = "示范镇执法设备"  # the signing certificate's organisation: what the PWA shows as 签发
SIGNER_CN = "Test Camera 0001"
DIGITAL_CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


@dataclass(frozen=True)
class SigningChain:
    root_pem: str
    chain_pem: bytes  # signing certificate first, then the root
    key_pem: bytes


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=sign_certificates,
                         crl_sign=sign_certificates, encipher_only=False, decipher_only=False)


@functools.cache
def signing_chain(root_name: str = "GridPatrol Test Root CA") -> SigningChain:
    """A root and a signing certificate under it, valid from yesterday for a month (no time-stamp authority
    here: c2pa checks the certificate against the time of reading)."""
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name("GridPatrol Test CA", root_name))
            .issuer_name(_name("GridPatrol Test CA", root_name)).public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(sign_certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name(SIGNER_ORG, SIGNER_CN)).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign_certificates=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return SigningChain(root_pem=root.public_bytes(pem).decode(),
                     chain_pem=leaf.public_bytes(pem) + root.public_bytes(pem),
                     key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def sign(data: bytes, media_type: str = "image/jpeg", *, title: str = "IMG_0001.jpg",
         remote_url: str | None = None) -> bytes:
    """The photo with an embedded C2PA manifest (c2pa.created, a digital capture), as a C2PA camera makes it;
    with `remote_url`, the manifest is left out and only that URL goes in."""
    chain = signing_chain()
    manifest = {"claim_generator_info": [{"name": CAMERA, "version": "1.0"}], "title": title,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": DIGITAL_CAPTURE}]}}]}
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain.chain_pem, chain.key_pem,
                                                       None))
    out = io.BytesIO()
    with signer, c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}}) as context, \
            c2pa.Builder(manifest, context=context) as builder:
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        builder.sign(signer, media_type, io.BytesIO(data), out)
    return out.getvalue()


def jpeg_segments(data: bytes) -> dict[int, list[tuple[int, int]]]:
    """marker -> [(offset of the marker, segment length)] up to the start of scan (0xDA: its offset, 0)."""
    found: dict[int, list[tuple[int, int]]] = {}
    at = 2
    while at < len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xDA:
            found.setdefault(marker, []).append((at, 0))
            break
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        found.setdefault(marker, []).append((at, length))
        at += 2 + length
    return found


def change_pixels(data: bytes, count: int = 8) -> bytes:
    """A few bits of the entropy-coded scan flipped, well after the manifest (APP11) and the scan header: the
    photo still decodes, its pixels differ. No byte becomes or follows 0xFF, so no marker appears or goes."""
    start = jpeg_segments(data)[0xDA][0][0] + 600
    changed = bytearray(data)
    done = 0
    for at in range(start, len(data) - 2, 97):
        if 0xFF not in (data[at - 1], data[at], data[at] ^ 0x01, data[at + 1]):
            changed[at] ^= 0x01
            done += 1
            if done == count:
                return bytes(changed)
    raise AssertionError("no room to change pixels")


def break_manifest(data: bytes) -> bytes:
    """Garbage over the header of the manifest store's description box (jumd, in the first APP11 segment), its
    C2PA UUID kept: the file still says it carries C2PA, but c2pa cannot parse the store."""
    app11 = jpeg_segments(data)[0xEB][0][0]
    # APP11: marker 2, length 2, "JP" 2, instance 2, sequence 4; then the jumb superbox header (8): jumd's header
    at = app11 + 12 + 8
    assert data[at + 4:at + 8] == b"jumd", data[app11:app11 + 40]
    return data[:at] + b"garbage!" + data[at + 8:]
