"""schemathesis hooks for scripts/fuzz_api.py: the fuzzer must not lock itself out of the API it tests."""
from __future__ import annotations

import os

import schemathesis

# The accounts the run signs in with. Setting their password, changing their roles or deactivating them would
# turn the rest of the run into 401s and 403s: those calls are sent for another user instead.
PROTECTED = {int(i) for i in os.environ.get("FUZZ_PROTECTED_USER_IDS", "").split(",") if i}
STAND_IN = int(os.environ.get("FUZZ_STAND_IN_USER_ID", "0"))


@schemathesis.hook
def before_call(context, case, kwargs):
    if not case.path_parameters or "user_id" not in case.path_parameters:
        return
    if case.method.upper() in ("PATCH", "POST") and _as_int(case.path_parameters["user_id"]) in PROTECTED:
        case.path_parameters["user_id"] = STAND_IN


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# tus PATCH bodies are raw bytes under their own media type (backend/resources/uploads)
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
