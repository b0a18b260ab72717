"""The rich menu: four large tiles that are always under the chat.

予約する / 予約の確認・キャンセル / 使い方 / 電話で予約 (with the operator's number on the
tile itself). The image is drawn here (Pillow, IPAexGothic from matplotlib-fontja) so the
phone number always matches the area's booking file; the menu's name carries a hash of
its content, so a changed menu is created anew and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 2500, 1686
TILES = (  # (action, label, lines on the tile, background)
    ("book", "予約する", ("予約する",), "#0b6e4f"),
    ("mine", "予約の確認", ("予約の確認", "キャンセル"), "#1d4e89"),
    ("help", "使い方", ("使い方",), "#5b5b5b"),
    ("phone", "電話で予約", ("電話で予約",), "#8a3b12"),
)


def rich_menu(phone: str) -> dict[str, Any]:
    """The rich menu object (Messaging API JSON), 2×2 tiles of postbacks."""
    half_w, half_h = WIDTH // 2, HEIGHT // 2
    areas = []
    for i, (action, display, _, _) in enumerate(TILES):
        x, y = (i % 2) * half_w, (i // 2) * half_h
        areas.append({
            "bounds": {"x": x, "y": y, "width": half_w, "height": half_h},
            "action": {"type": "postback", "label": display, "data": f"a={action}",
                       "displayText": display},
        })  # fmt: skip
    body = {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "chatBarText": "メニュー",
        "areas": areas,
    }
    digest = hashlib.sha256(json.dumps([body, phone], sort_keys=True).encode()).hexdigest()
    return {**body, "name": f"kurate-drt-{digest[:12]}"}


def font_path() -> Path:
    import matplotlib_fontja

    return Path(matplotlib_fontja.__file__).parent / "fonts" / "ipaexg.ttf"


def rich_menu_image(phone: str) -> bytes:
    """The menu's PNG (2500×1686): large white words on strong colours, the number included."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype(str(font_path()), 150)
    small = ImageFont.truetype(str(font_path()), 110)
    half_w, half_h = WIDTH // 2, HEIGHT // 2
    for i, (action, _, lines, colour) in enumerate(TILES):
        x, y = (i % 2) * half_w, (i // 2) * half_h
        draw.rectangle((x + 12, y + 12, x + half_w - 12, y + half_h - 12), fill=colour)
        rows: list[tuple[str, Any]] = [(line, big) for line in lines]
        if action == "phone":
            rows.append((phone, small))
        heights = [draw.textbbox((0, 0), t, font=f)[3] for t, f in rows]
        top = y + (half_h - sum(heights) - 40 * (len(rows) - 1)) // 2
        for (t, f), h in zip(rows, heights, strict=True):
            w = draw.textlength(t, font=f)
            draw.text((x + (half_w - w) / 2, top), t, font=f, fill="white")
            top += h + 40
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
