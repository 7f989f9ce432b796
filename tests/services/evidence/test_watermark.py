"""The watermark copy (水印相机): what is burned in, in Chinese, with every glyph in the deployment's CJK font, on a
copy only (the original and its hash untouched)."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image, ImageChops

from backend.services.evidence import watermark

FONT = watermark.find_font(None)
if FONT is None:
    pytest.fail("no CJK font installed: apt-get install fonts-noto-cjk (CI does), or set WATERMARK_FONT")


def test_the_stamp_says_when_where_who():
    stamp = watermark.stamp_for(datetime(2026, 12, 1, 1, 30, tzinfo=UTC), 120.123456, 30.654321, 6.4,
                                "示范镇 · 东村 · 第3网格", "王伟", "浙A0123456", 42, "ab" * 32)
    assert (stamp.time, stamp.date) == ("09:30", "2026-12-01 星期二")  # Asia/Shanghai, Tuesday
    assert stamp.lines[0] == "经纬度：120.123456°E，30.654321°N（±6 米）"
    assert stamp.lines[1] == "地点：示范镇 · 东村 · 第3网格"
    assert stamp.lines[2] == "执法人员：王伟（执法证 浙A0123456）"
    assert stamp.lines[3].startswith("证据编号 42 · SHA-256 abababababababab")
    nowhere = watermark.stamp_for(datetime(2026, 12, 1, tzinfo=UTC), None, None, None, None, "李娜", None, 1, "0" * 64)
    assert nowhere.lines[:3] == ("位置：未获取到定位", "地点：不在已知网格内", "执法人员：李娜")


def test_every_glyph_is_in_the_font():
    font = watermark._font(FONT[0], FONT[1], 40)
    missing = font.getmask("\U0010fffd").getbbox()  # a code point no font draws: its .notdef box
    notdef = bytes(font.getmask("\U0010fffd"))
    stamp = watermark.stamp_for(datetime(2026, 12, 1, tzinfo=UTC), -3.7, 40.4, 5, "示范镇 · 龙泉村 · 第12网格",
                                "欧阳晓燕", "鄂B20261234", 7, "f" * 64)
    text = "".join((stamp.time, stamp.date, *stamp.lines)).replace(" ", "")
    drawn_as_notdef = [ch for ch in set(text) if bytes(font.getmask(ch)) == notdef]
    assert missing is not None and drawn_as_notdef == []


def test_burned_in_at_the_bottom_left_only():
    picture = Image.new("RGB", (1920, 1440), (90, 120, 150))
    stamp = watermark.stamp_for(datetime(2026, 12, 1, tzinfo=UTC), 120.1, 30.2, 5, "东村", "王伟", "A1", 1, "0" * 64)
    out = watermark.burn(picture, stamp, FONT)
    burned = Image.open(io.BytesIO(out.data)).convert("RGB")
    assert burned.size == picture.size and (out.width, out.height) == picture.size
    diff = ImageChops.difference(burned, picture).convert("L").point(lambda v: 255 if v > 40 else 0)
    x0, y0, x1, y1 = diff.getbbox()
    assert x0 < 100 and y1 > 1440 - 100 and y0 > 1440 / 2 and x1 < 1920 * 0.8  # a panel, bottom left
    white = int((np.asarray(burned.crop((x0, y0, x1, y1))).min(axis=2) > 200).sum())
    assert white > 2000  # text was drawn, not only the panel
    assert picture.getpixel((0, 0)) == (90, 120, 150)  # the input is not touched


@pytest.mark.parametrize("size", [(10, 10), (4000, 60), (60, 4000)])
def test_tiny_and_extreme_pictures(size):
    stamp = watermark.stamp_for(datetime(2026, 12, 1, tzinfo=UTC), 120.1, 30.2, 5, "东村", "王伟", "A1", 1, "0" * 64)
    out = watermark.burn(Image.new("RGB", size, (200, 200, 200)), stamp, FONT)
    assert max(out.width, out.height) >= min(960, max(size)) and Image.open(io.BytesIO(out.data)).size == (out.width, out.height)
