"""The one Japanese font the project draws with (IPAexGothic, shipped by matplotlib-fontja):
the rich menu's image, the PDFs of forms and payment slips. Nothing from the system."""

from __future__ import annotations

from pathlib import Path


def japanese_font_file() -> Path:
    import matplotlib_fontja

    return Path(matplotlib_fontja.__file__).parent / "fonts" / "ipaexg.ttf"
