"""PDF pages of the town services (application forms, payment slips), drawn with ReportLab in
IPAexGothic (the font the project already ships for the rich menu, from matplotlib-fontja):
no system font, nothing downloaded. One registration per process."""

from __future__ import annotations

from functools import cache

from common.fonts import japanese_font_file

FONT = "IPAexGothic"


@cache
def font() -> str:
    """The registered Japanese font's name (embedded, subset, in every PDF that uses it)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(japanese_font_file())))
    return FONT
