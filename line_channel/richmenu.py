"""The rich menu: six large tiles that are always under the chat, the bus on top and the
town's services below.

予約する / 予約の確認・キャンセル / 電話で予約 (with the operator's number on the tile itself);
ごみの日 / 質問・使い方 (the FAQ bot, and how to use the account) / 通知の設定 (each town
service's opt-in). The image is drawn here (Pillow, IPAexGothic from matplotlib-fontja) so the
phone number always matches the area's booking file; the menu's name carries a hash of
its content, so a changed menu is created anew and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from common.fonts import japanese_font_file

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
TILES = (  # (action, label, lines on the tile, background): white words on each (contrast ≥ 7:1)
    ("book", "予約する", ("予約する",), "#0b5e44"),
    ("mine", "予約の確認", ("予約の確認", "キャンセル"), "#1d4e89"),
    ("phone", "電話で予約", ("電話で予約",), "#8a3b12"),
    ("garbage", "ごみの日", ("ごみの日",), "#3f5a17"),
    ("ask", "質問・使い方", ("質問する", "使い方"), "#4b4b4b"),
    ("settings", "通知の設定", ("通知の設定",), "#6b2d5c"),
)


def rich_menu(phone: str) -> dict[str, Any]:
    """The rich menu object (Messaging API JSON), 3×2 tiles of postbacks."""
    areas = []
    for i, (action, display, _, _) in enumerate(TILES):
        x, y, w, h = _bounds(i)
        areas.append({
            "bounds": {"x": x, "y": y, "width": w, "height": h},
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


def _bounds(i: int) -> tuple[int, int, int, int]:
    """Tile ``i``'s x, y, width and height; the last column and row take the odd pixels."""
    col, row = i % COLUMNS, i // COLUMNS
    x0, x1 = WIDTH * col // COLUMNS, WIDTH * (col + 1) // COLUMNS
    y0, y1 = HEIGHT * row // ROWS, HEIGHT * (row + 1) // ROWS
    return x0, y0, x1 - x0, y1 - y0


def rich_menu_image(phone: str) -> bytes:
    """The menu's PNG (2500×1686): large white words on strong colours, the number included."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype(str(japanese_font_file()), 130)
    small = ImageFont.truetype(str(japanese_font_file()), 96)
    for i, (action, _, lines, colour) in enumerate(TILES):
        x, y, tile_w, tile_h = _bounds(i)
        draw.rectangle((x + 12, y + 12, x + tile_w - 12, y + tile_h - 12), fill=colour)
        rows: list[tuple[str, Any]] = [(line, big) for line in lines]
        if action == "phone":
            rows.append((phone, small))
        heights = [draw.textbbox((0, 0), t, font=f)[3] for t, f in rows]
        top = y + (tile_h - sum(heights) - 40 * (len(rows) - 1)) // 2
        for (t, f), h in zip(rows, heights, strict=True):
            w = draw.textlength(t, font=f)
            draw.text((x + (tile_w - w) / 2, top), t, font=f, fill="white")
            top += h + 40
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
