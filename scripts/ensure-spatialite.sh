#!/usr/bin/env bash
# Make sure Python can load SpatiaLite (mod_spatialite); install it with apt-get when we can, else say how.
set -euo pipefail
PY=${1:-.venv/bin/python}
check() {
  "$PY" - <<'PY' 2>/dev/null
from backend.extensions.database import sqlite_dbapi_module, SPATIALITE_MODULE
c = sqlite_dbapi_module().connect(":memory:")
c.enable_load_extension(True)
c.load_extension(SPATIALITE_MODULE)
PY
}
check && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    echo "Installing SpatiaLite (libsqlite3-mod-spatialite) with apt-get ..."
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libsqlite3-mod-spatialite >/dev/null
    check && exit 0
  fi
fi
cat >&2 <<'MSG'
SpatiaLite is missing: GridPatrol's embedded database needs the mod_spatialite SQLite extension.
  Debian/Ubuntu:  sudo apt-get install libsqlite3-mod-spatialite
  Fedora:         sudo dnf install libspatialite
  macOS (brew):   brew install libspatialite   (then set SPATIALITE_LIBRARY_PATH=/opt/homebrew/lib/mod_spatialite.dylib)
Or use PostGIS: set DATABASE_URL=postgresql://user@host/db
MSG
exit 1
