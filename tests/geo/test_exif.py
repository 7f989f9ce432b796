"""EXIF read from real photos of real devices (../shared/data/photos): GPS in its encodings, times with and
without an offset, devices, orientation; broken and empty blocks give None, never an error."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

import backend.services.evidence.images  # noqa: F401  (registers pillow-heif's opener)
from geo.exif import read_exif

SHANGHAI = ZoneInfo("Asia/Shanghai")

# file: (lon, lat, taken_at UTC, time_source, make, model, orientation)
EXPECTED = {
    "exif-samples__gps_DSCN0010.jpg": (11.885127, 43.467448, datetime(2008, 10, 23, 14, 27, 7, 240000, UTC), "gps",
                                       "NIKON", "COOLPIX P6000", 1),
    "exif-samples__hdr_iphone_hdr_YES.jpg": (-3.724753, 40.446972, datetime(2015, 4, 10, 18, 12, 23, 60000, UTC),
                                             "gps", "Apple", "iPhone 6", 1),
    "exif-samples__mobile_HMD_Nokia_8.3_5G.jpg": (24.906772, 60.146706, datetime(2022, 8, 14, 11, 12, 31, tzinfo=UTC),
                                                  "offset", "HMD Global", "Nokia 8.3 5G", 1),
    "exif-samples__heic_IMG_5195.HEIC": (-94.288772, 39.051344, datetime(2021, 4, 11, 20, 47, 53, tzinfo=UTC),
                                         "offset", "Apple", "iPhone 11 Pro Max", None),
    # Canon's camera clock has no zone: read as the township's time (08:00 ahead of UTC)
    "exif-samples__Canon_40D.jpg": (None, None, datetime(2008, 5, 30, 7, 56, 1, tzinfo=UTC), "assumed_local",
                                    "Canon", "Canon EOS 40D", 1),
    "exif-samples__orientation_portrait_6.jpg": (None, None, None, None, None, None, 6),
    "pillow__empty_gps_ifd.jpg": (None, None, datetime(2020, 7, 27, 6, 46, 48, tzinfo=UTC), "assumed_local",
                                  "Xiaomi", "Redmi Note 9S", 6),
    "pillow__exif_gps_typeerror.jpg": (None, None, None, None, None, None, None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_photos(shared_data, name):
    lon, lat, taken_at, source, make, model, orientation = EXPECTED[name]
    facts = read_exif(Image.open(shared_data / "photos" / name), SHANGHAI)
    assert facts.has_exif
    assert (facts.lon is None) == (lon is None) and (facts.lat is None) == (lat is None)
    if lon is not None:
        assert facts.lon == pytest.approx(lon, abs=1e-6) and facts.lat == pytest.approx(lat, abs=1e-6)
    assert facts.taken_at == taken_at and facts.time_source == source
    assert (facts.make, facts.model, facts.orientation) == (make, model, orientation)


def test_photoshop_export_has_no_capture_time(shared_data):
    """Its EXIF block is Photoshop's: a save time (DateTime) that must not pass for the shutter's."""
    facts = read_exif(Image.open(shared_data / "photos" / "exif-samples__xmp_no_exif.jpg"), SHANGHAI)
    assert facts.taken_at is None and facts.lon is None
    assert "Photoshop" in (facts.software or "")


def test_no_exif_at_all():
    facts = read_exif(Image.new("RGB", (8, 8)), SHANGHAI)
    assert not facts.has_exif and facts.taken_at is None and facts.lon is None


def test_gps_zero_zero_is_no_fix():
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)})
    out = Image.open(_saved(image, exif))
    assert read_exif(out, SHANGHAI).lon is None


def test_decimal_gps_and_southern_hemisphere():
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    exif.get_ifd(0x8825).update({1: "S", 2: (33.0, 51.0, 54.0), 3: "E", 4: (151.0, 12.0, 36.0)})
    facts = read_exif(Image.open(_saved(image, exif)), SHANGHAI)
    assert facts.lat == pytest.approx(-33.865) and facts.lon == pytest.approx(151.21)


def _saved(image, exif):
    import io

    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    out.seek(0)
    return out
