"""The watermark copy (水印相机): the display copy with local time, coordinates, grid and village, the officer's name
and certificate number burned in, as people in the field expect to see evidence. A derived file: the original is
never touched, and the record's hash stays the camera file's.

The CJK font is the deployment's: WATERMARK_FONT, else Noto Sans CJK SC as Debian's fonts-noto-cjk installs it
(the README's deployment steps install it; CI does too). Without one no watermark copy is made, and asking for it
says why.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from .images import Derived

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"
MIN_LONG_EDGE_PX = 960
# (path, index in a collection): Noto Sans CJK's collection holds JP, KR, SC, TC, HK; SC is the third
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    """What is burned in, already as text lines."""

    time: str
    date: str
    lines: tuple[str, ...]


def stamp_for(captured_at: datetime, lon: float | None, lat: float | None, accuracy_m: float | None,
              place: str | None, officer_name: str, certificate_no: str | None, evidence_id: int,
              sha256: str) -> Stamp:
    local = captured_at.astimezone(LOCAL_TZ)
    if lon is None or lat is None:
        where = "位置：未获取到定位"
    else:
        accuracy = f"（±{accuracy_m:.0f} 米）" if accuracy_m is not None else ""
        where = f"经纬度：{abs(lon):.6f}°{'E' if lon >= 0 else 'W'}，{abs(lat):.6f}°{'N' if lat >= 0 else 'S'}{accuracy}"
    who = f"执法人员：{officer_name}" + (f"（执法证 {certificate_no}）" if certificate_no else "")
    lines = (where, f"地点：{place}" if place else "地点：不在已知网格内", who,
             f"证据编号 {evidence_id} · SHA-256 {sha256[:16]} · 网格巡查")
    return Stamp(local.strftime("%H:%M"), f"{local:%Y-%m-%d} 星期{WEEKDAYS[local.weekday()]}", lines)


def find_font(configured: str | None) -> tuple[str, int] | None:
    if configured:
        path, _, index = configured.partition("#")  # "file.ttc#2" picks a face of a collection
        return (path, int(index or 0)) if Path(path).is_file() else None
    return next(((p, i) for p, i in FONT_CANDIDATES if Path(p).is_file()), None)


@lru_cache(maxsize=16)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def burn(upright: Image.Image, stamp: Stamp, font: tuple[str, int], quality: int = 85) -> Derived:
    """The picture with the stamp in a translucent panel at the bottom left, sized to the picture."""
    base = upright.convert("RGB")
    if max(base.size) < MIN_LONG_EDGE_PX:  # a tiny picture still gets a readable stamp
        scale = MIN_LONG_EDGE_PX / max(base.size)
        base = base.resize((max(1, round(base.width * scale)), max(1, round(base.height * scale))),
                           Image.Resampling.LANCZOS)
    width, height = base.size
    unit = max(12, round(min(width, height * 1.4) / 48))  # body text height in px
    big, body = _font(font[0], font[1], unit * 3), _font(font[0], font[1], unit)
    pad, gap = unit, round(unit * 0.45)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    time_box = draw.textbbox((0, 0), stamp.time, font=big)
    date_box = draw.textbbox((0, 0), stamp.date, font=body)
    line_boxes = [draw.textbbox((0, 0), line, font=body) for line in stamp.lines]
    text_w = max([time_box[2] + pad + date_box[2]] + [b[2] for b in line_boxes])
    line_h = unit + gap
    panel_w = min(width - 2 * pad, text_w + 3 * pad)
    panel_h = min(height - 2 * pad, (time_box[3] - time_box[1]) + gap * 2 + line_h * len(stamp.lines) + 2 * pad)
    x0, y0 = pad, height - pad - panel_h  # on a very flat picture the panel fills the height; text may clip
    draw.rounded_rectangle((x0, y0, x0 + panel_w, y0 + panel_h), radius=unit // 2, fill=(0, 0, 0, 120))
    draw.rectangle((x0 + pad // 2, y0 + pad, x0 + pad // 2 + max(3, unit // 5), y0 + panel_h - pad),
                   fill=(255, 196, 0, 255))  # the yellow bar of the familiar look
    tx = x0 + pad + max(3, unit // 5)
    ty = y0 + pad - time_box[1]
    draw.text((tx, ty), stamp.time, font=big, fill=(255, 255, 255, 255))
    draw.text((tx + time_box[2] + pad, ty + time_box[3] - date_box[3]), stamp.date, font=body,
              fill=(255, 255, 255, 255))
    y = y0 + pad + (time_box[3] - time_box[1]) + gap * 2
    for line in stamp.lines:
        draw.text((tx, y), line, font=body, fill=(255, 255, 255, 235))
        y += line_h
    out = io.BytesIO()
    Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB").save(out, "JPEG", quality=quality,
                                                                                   optimize=True)
    return Derived(out.getvalue(), "image/jpeg", width, height)
