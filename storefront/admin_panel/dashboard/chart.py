"""The orders-per-hour chart as inline SVG geometry, drawn by the template (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass

from .data import HourBar

WIDTH, HEIGHT = 720, 160
TOP, BOTTOM = 16, 22  # room for the count over the highest bar and the hour labels
LABEL_EVERY = 3  # hours


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    hour: str  # "HH:00" UTC
    label: bool  # draw the hour under this bar
    label_x: float
    count_y: float  # the count written just over the bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    peak: int
    total: int
    bars: list[Bar]


def chart(hours: list[HourBar]) -> Chart:
    peak = max((h.count for h in hours), default=0)
    plot = HEIGHT - TOP - BOTTOM
    slot = WIDTH / max(len(hours), 1)
    width = slot * 0.75
    bars = []
    for i, h in enumerate(hours):
        height = plot * h.count / peak if peak else 0
        x = i * slot + (slot - width) / 2
        bars.append(Bar(x=round(x, 1), y=round(TOP + plot - height, 1), width=round(width, 1),
                        height=round(height, 1), count=h.count, hour=h.hour.strftime("%H:00"),
                        label=(len(hours) - 1 - i) % LABEL_EVERY == 0, label_x=round(x + width / 2, 1),
                        count_y=round(TOP + plot - height - 3, 1)))
    return Chart(width=WIDTH, height=HEIGHT, baseline=TOP + plot, peak=peak, total=sum(h.count for h in hours),
                 bars=bars)
