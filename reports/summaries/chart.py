"""The summary's small bar chart (calls per day) as a PNG, drawn with Pillow (no display)."""
from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw, ImageFont

WIDTH = 560  # fits the 600 px email column with its padding
HEIGHT = 160
BAR = (31, 42, 68)
AXIS = (154, 163, 178)
TEXT = (60, 60, 60)


def daily_bars_png(daily: list[tuple[date, int | None]], label_format: str = "%d/%m") -> bytes:
    """A bar per day, labelled with the date (and the count over the tallest bar); a day
    never mirrored (None) is a gap with a dashed base, not a zero."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=12)
    top, bottom, left, right = 16, HEIGHT - 18, 4, WIDTH - 4
    draw.line([(left, bottom), (right, bottom)], fill=AXIS)
    if daily:
        peak = max((count for _, count in daily if count is not None), default=0) or 1
        slot = (right - left) / len(daily)
        width = max(1, int(slot * 0.7))
        show_labels = slot >= 34  # a month of labels would overlap: label weekly then
        for i, (day, count) in enumerate(daily):
            x0 = int(left + i * slot + (slot - width) / 2)
            if count is None:
                for x in range(x0, x0 + width, 4):
                    draw.line([(x, bottom - 2), (min(x + 1, x0 + width), bottom - 2)], fill=AXIS)
                if show_labels or i % 7 == 0:
                    draw.text((x0, bottom + 3), day.strftime(label_format), fill=TEXT, font=font)
                continue
            height = int((bottom - top) * count / peak)
            if height:
                draw.rectangle([x0, bottom - height, x0 + width, bottom - 1], fill=BAR)
            if show_labels or i % 7 == 0:
                draw.text((x0, bottom + 3), day.strftime(label_format), fill=TEXT, font=font)
            if count == peak and count:
                draw.text((x0, max(0, bottom - height - 12)), str(count), fill=TEXT, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
