"""Fixtures for the geo tests: the shared real-world reference data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

BOUNDARY_FILES = {
    "haidian": "GNsNyl-PW__haidian.geojson",
    "seoul": "click_that_hood__seoul.geojson",
    "san_francisco": "click_that_hood__san-francisco.geojson",
    "tsinghua": "trackintel__tsinghua_area_epsg32649.geojson",
}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared reference data folder (real boundary files); the geo tests prove nothing without it."""
    path = Path(os.environ.get("GRIDPATROL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not (path / "boundaries").is_dir():
        pytest.fail(
            f"shared reference data not found at {path} (expected a boundaries/ folder); "
            "set GRIDPATROL_SHARED_DATA to the folder holding boundaries/, gps/, photos/"
        )
    return path


@pytest.fixture(scope="session")
def boundary_bytes(shared_data: Path) -> dict[str, bytes]:
    """Raw bytes of each real boundary file, keyed by short name."""
    return {key: (shared_data / "boundaries" / name).read_bytes() for key, name in BOUNDARY_FILES.items()}


@pytest.fixture
def haidian_doc(boundary_bytes: dict[str, bytes]) -> dict[str, Any]:
    """A fresh, mutable copy of the Haidian FeatureCollection for building broken inputs."""
    return json.loads(boundary_bytes["haidian"])
