"""C2PA content credentials (内容凭证) of an original photo, read with c2pa-python and summed up for evidence.checks.

What "valid" means here: the claim's signature verifies against the certificate in the manifest, and every hash
binding matches (each assertion's hash, and the data hash over the file's own bytes: a changed pixel breaks it).
Whether the signer is someone to believe is a separate question, a trust list's: it is asked only when trust
anchors are given, and otherwise reported as not checked, so "valid" never means "from a trusted camera".

c2pa-python carries a large native library: it is imported on the first photo, not at server start. Nothing is
fetched: not a remote manifest, not OCSP, no other host (a photo must not make the server call a URL it names).
"""
from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

# A trust list's verdict, not damage to the file: kept out of `errors`, reported as `trust`.
TRUST_CODES = frozenset({"signingCredential.untrusted", "timeStamp.untrusted"})
UNREADABLE = "manifest.unreadable"  # c2pa could not parse the manifest store: a malformed or damaged manifest
REMOTE = "manifest.remote"  # the file points at a manifest elsewhere; it is not fetched, so nothing is checked
MAX_ERRORS = 10
MAX_TEXT = 300  # every string here comes from the file: stored and shown, so kept short


def read(source: bytes | str | Path, media_type: str, *, trust_anchors_pem: str | None = None) -> dict | None:
    """The content credentials of a file (its bytes or a path), or None when it carries none.

    Parameters
    ----------
    source : the file's exact bytes, or a path to them
    media_type : what the bytes are (image/jpeg, image/png, image/webp, image/heic)
    trust_anchors_pem : root certificates (PEM) the signer must chain to; None leaves trust unchecked

    Returns
    -------
    ``{"state": "valid" | "invalid" | "unverified", "trust": "not_checked" | "trusted" | "untrusted",
    "claim_generator", "signer": {"common_name", "organization"}, "signed_at", "title", "actions",
    "digital_source_type", "errors": [{"code", "explanation"}]}``. A manifest c2pa cannot parse is "invalid"
    with the reason, never an exception; "unverified" is a manifest kept at a remote URL (not fetched).

    Examples
    --------
    >>> read(Path("photo-from-wechat.jpg"), "image/jpeg")  # doctest: +SKIP
    >>> read(signed_photo, "image/jpeg")["state"]  # doctest: +SKIP
    'valid'
    """
    try:
        import c2pa
    except ImportError:  # pragma: no cover - a dependency; a deployment without it says so once a photo arrives
        log.warning("c2pa-python is not installed: content credentials are not checked")
        return None
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    try:
        with c2pa.Context.from_dict(_settings(trust_anchors_pem)) as context:
            reader = c2pa.Reader.try_create(media_type, stream, context=context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError.NotSupported:
        log.info("content credentials not read: c2pa does not read %s", media_type)
        return None
    except c2pa.C2paError as error:
        message = str(error)
        if isinstance(error, c2pa.C2paError.RemoteManifest) or message.startswith("Remote"):
            return _without_manifest("unverified", REMOTE, message)
        return _without_manifest("invalid", UNREADABLE, message)
    except Exception as error:  # odd bytes can surface as other errors from the bindings: still the file's fault
        log.warning("c2pa failed on a manifest: %r", error)
        return _without_manifest("invalid", UNREADABLE, f"{type(error).__name__}: {error}")
    finally:
        stream.close()
    return summarize(store, trust_checked=trust_anchors_pem is not None)


def _settings(trust_anchors_pem: str | None) -> dict:
    checked = trust_anchors_pem is not None
    settings: dict[str, Any] = {
        "verify": {"verify_after_reading": True, "verify_trust": checked, "verify_timestamp_trust": checked,
                   "remote_manifest_fetch": False, "ocsp_fetch": False},
        "core": {"allowed_network_hosts": []},
    }
    if checked:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return settings


def summarize(store: dict, *, trust_checked: bool) -> dict:
    """The compact result from c2pa's manifest store JSON (Reader.json()): the active manifest's facts and the
    verdict. Valid: c2pa says Valid or Trusted and no failure beyond a trust list's.

    Examples
    --------
    >>> summarize({}, trust_checked=False)["state"]
    'invalid'
    >>> summarize({"validation_state": "Valid", "manifests": {}}, trust_checked=False)["trust"]
    'not_checked'
    """
    manifests = store.get("manifests") if isinstance(store.get("manifests"), dict) else {}
    active = manifests.get(store.get("active_manifest")) if manifests else None
    active = active if isinstance(active, dict) else {}
    results = store.get("validation_results")
    active_results = results.get("activeManifest") if isinstance(results, dict) else None
    if isinstance(active_results, dict):
        failures = active_results.get("failure") or []
    else:  # older stores: one flat list of failures
        failures = store.get("validation_status") or []
    errors = [_status(f) for f in failures if isinstance(f, dict) and f.get("code") not in TRUST_CODES]
    verdict = store.get("validation_state")
    valid = verdict in ("Valid", "Trusted") and not errors
    if not valid and not errors:
        errors = [{"code": "validation.failed", "explanation": f"c2pa validation state: {verdict}"}]
    signature = active.get("signature_info")
    if not isinstance(signature, dict):
        signature = {}
    actions = _actions(active)
    return {
        "state": "valid" if valid else "invalid",
        "trust": ("trusted" if verdict == "Trusted" else "untrusted") if trust_checked else "not_checked",
        "claim_generator": _claim_generator(active),
        "signer": {"common_name": _text(signature.get("common_name")),
                   "organization": _text(signature.get("issuer"))} if signature else None,
        "signed_at": _text(signature.get("time")),  # a time-stamp authority's time; none without one
        "title": _text(active.get("title")),
        "actions": [a for a, _ in actions],
        "digital_source_type": next((s for a, s in actions if a == "c2pa.created" and s), None),
        "errors": errors[:MAX_ERRORS],
    }


def _without_manifest(state: str, code: str, explanation: str) -> dict:
    """No manifest could be read: nothing to say of signer or trust."""
    return {"state": state, "trust": "not_checked", "claim_generator": None,
            "signer": None, "signed_at": None, "title": None, "actions": [], "digital_source_type": None,
            "errors": [{"code": code, "explanation": _text(explanation)}]}


def _status(entry: dict) -> dict:
    return {"code": _text(entry.get("code")) or "unknown", "explanation": _text(entry.get("explanation"))}


def _claim_generator(manifest: dict) -> str | None:
    if isinstance(manifest.get("claim_generator"), str):  # v1 claims: one string
        return _text(manifest["claim_generator"])
    info = manifest.get("claim_generator_info")  # v2 claims: a list of {name, version}
    if isinstance(info, list) and info and isinstance(info[0], dict):
        return _text(" ".join(str(info[0][k]) for k in ("name", "version") if info[0].get(k)))
    return None


def _actions(manifest: dict) -> list[tuple[str, str | None]]:
    """(action, digital source type's last word) of the manifest's c2pa.actions assertions, in order."""
    found: list[tuple[str, str | None]] = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data")
        for action in (data.get("actions") if isinstance(data, dict) else None) or []:
            if isinstance(action, dict) and isinstance(action.get("action"), str):
                source = action.get("digitalSourceType")
                found.append((action["action"][:MAX_TEXT],
                              source.rstrip("/").rsplit("/", 1)[-1][:MAX_TEXT] if isinstance(source, str) else None))
    return found[:MAX_ERRORS * 2]


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:MAX_TEXT]
