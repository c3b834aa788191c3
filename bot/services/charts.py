"""Pictures instead of numbers: a student's weekly marks and attendance, a group's averages.

The data of a chart is a frozen dataclass with every text already in the reader's language, so
the picture depends on nothing else: its hash (plus the locale) is the cache key, and the same
data never gets drawn twice while it stays in the cache. Drawing is matplotlib's Agg canvas on
the object-oriented API (no pyplot, no global figure state), in a worker thread, with at most
``MAX_PARALLEL`` drawings at a time so a burst of presses cannot take every core. Letters are
Noto Sans from :mod:`bot.services.fonts` (Kazakh and Russian letters included). The pictures
are 1080 px wide with large type, to be read on a phone.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.services.grading import GradingRules, display_letter, round_percent

WIDTH_PX = 1080
DPI = 100
MAX_PARALLEL = 2
CACHE_SIZE = 128
BASE_FONT = 22

PASS_COLOUR = "#2e7d32"
FAIL_COLOUR = "#c62828"
BAR_COLOUR = "#1e88e5"
LINE_COLOUR = "#fb8c00"
GRID_COLOUR = "#9e9e9e"


# ---- what is drawn ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    label: str
    percent: int
    passing_line: bool = False


@dataclass(frozen=True, slots=True)
class WeekPoint:
    monday: date
    label: str
    mean_mark: float | None
    """Mean of the current marks given that week (None: no mark)."""
    running_average: float | None
    """The current average as it stood at the end of the week."""
    attended: int
    held: int


@dataclass(frozen=True, slots=True)
class StudentChart:
    title: str
    subtitle: str
    weeks: tuple[WeekPoint, ...]
    thresholds: tuple[Threshold, ...]
    attendance_floor: float
    """Percent of classes a student must attend to stay under the absence limit."""
    marks_axis: str
    attendance_axis: str
    weekly_label: str
    running_label: str
    pass_label: str
    floor_label: str
    empty_text: str


@dataclass(frozen=True, slots=True)
class Band:
    label: str
    count: int
    passing: bool


@dataclass(frozen=True, slots=True)
class DistributionChart:
    title: str
    subtitle: str
    bands: tuple[Band, ...]
    """Lowest band first."""
    count_axis: str
    band_axis: str
    pass_label: str
    empty_text: str


# ---- building the data -----------------------------------------------------------------------


def week_of(day: date) -> date:
    return date.fromordinal(day.toordinal() - day.weekday())


def student_weeks(
    marks: Sequence[tuple[date, Decimal]],
    attendance: Sequence[tuple[date, bool]],
    week_label: Callable[[date], str],
) -> tuple[WeekPoint, ...]:
    """One point per week from the first to the last week with a mark or a class."""
    days = [d for d, _v in marks] + [d for d, _p in attendance]
    if not days:
        return ()
    first, last = week_of(min(days)), week_of(max(days))
    points = []
    running: list[Decimal] = []
    monday = first
    ordered_marks = sorted(marks)
    while monday <= last:
        end = monday.toordinal() + 6
        week_marks = [v for d, v in ordered_marks if monday.toordinal() <= d.toordinal() <= end]
        running += week_marks
        week_classes = [p for d, p in attendance if monday.toordinal() <= d.toordinal() <= end]
        points.append(
            WeekPoint(
                monday=monday,
                label=week_label(monday),
                mean_mark=float(sum(week_marks) / len(week_marks)) if week_marks else None,
                running_average=float(sum(running) / len(running)) if running else None,
                attended=sum(1 for p in week_classes if p),
                held=len(week_classes),
            )
        )
        monday = date.fromordinal(monday.toordinal() + 7)
    return tuple(points)


def letter_thresholds(rules: GradingRules) -> tuple[Threshold, ...]:
    """The pass mark and the lower bound of each whole letter (A, B, C, D) above it."""
    return tuple(
        Threshold(
            f"{display_letter(band.letter)} {band.min_percent}",
            band.min_percent,
            passing_line=band.min_percent == rules.pass_threshold,
        )
        for band in rules.passing_bands
        if band.min_percent == rules.pass_threshold or band.letter.rstrip("+-") == band.letter
    )


def band_counts(values: Sequence[Decimal], rules: GradingRules) -> tuple[Band, ...]:
    """How many values fall in each letter band, rounded as the grading rules round them."""
    counts = {band.letter: 0 for band in rules.scale}
    for value in values:
        counts[rules.band_for(round_percent(value)).letter] += 1
    return tuple(
        Band(
            label=display_letter(band.letter),
            count=counts[band.letter],
            passing=band.min_percent >= rules.pass_threshold,
        )
        for band in reversed(rules.scale)
    )


# ---- drawing ---------------------------------------------------------------------------------

_font_lock = threading.Lock()
_font_family: str | None = None


def _font() -> str:
    """Register the bot's Noto Sans files with matplotlib once; return the family name."""
    global _font_family
    with _font_lock:
        if _font_family is None:
            from matplotlib import font_manager

            from bot.services.fonts import font_files

            files = font_files()
            for path in files.values():
                font_manager.fontManager.addfont(str(path))
            _font_family = font_manager.FontProperties(fname=str(files[""])).get_name()
        return _font_family


def _figure(height_px: int) -> tuple[Any, Any, str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = _font()
    figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    figure.set_facecolor("white")
    return figure, canvas, family


def _png(figure: Any, canvas: Any) -> bytes:
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    figure.clear()
    return buffer.getvalue()


def _style(axes: Any, family: str) -> None:
    axes.tick_params(labelsize=BASE_FONT - 4)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_fontfamily(family)
    axes.grid(axis="y", color=GRID_COLOUR, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)


def _empty(title: str, subtitle: str, text: str) -> bytes:
    """A short card saying there is nothing to draw yet."""
    figure, canvas, family = _figure(540)
    font = {"family": family}
    figure.suptitle(title, y=0.93, fontsize=BASE_FONT + 4, fontweight="bold", **font)
    figure.text(0.5, 0.72, subtitle, ha="center", fontsize=BASE_FONT - 2, **font)
    figure.text(0.5, 0.4, text, ha="center", fontsize=BASE_FONT, color="#616161", **font)
    return _png(figure, canvas)


def render_student_chart(chart: StudentChart) -> bytes:
    """Weekly marks against the letter thresholds above, weekly attendance below (PNG).

    Threshold letters sit on a right-hand axis and explanations in the legends and subplot
    titles, so no text lies on top of the data.
    """
    if not chart.weeks:
        return _empty(chart.title, chart.subtitle, chart.empty_text)
    figure, canvas, family = _figure(1350)
    font = {"family": family}
    figure.suptitle(chart.title, y=0.985, fontsize=BASE_FONT + 6, fontweight="bold", **font)
    figure.text(0.5, 0.925, chart.subtitle, ha="center", fontsize=BASE_FONT - 2, **font)
    grid = figure.add_gridspec(
        2, 1, height_ratios=(3, 2), hspace=0.5, top=0.83, bottom=0.11, left=0.11, right=0.87
    )
    marks = figure.add_subplot(grid[0])
    presence = figure.add_subplot(grid[1], sharex=marks)
    xs = list(range(len(chart.weeks)))
    means = [w.mean_mark for w in chart.weeks]
    marks.bar(
        [x for x, m in zip(xs, means, strict=True) if m is not None],
        [m for m in means if m is not None],
        color=BAR_COLOUR,
        alpha=0.75,
        label=chart.weekly_label,
    )
    running = [(x, w.running_average) for x, w in zip(xs, chart.weeks, strict=True)]
    running = [(x, v) for x, v in running if v is not None]
    if running:
        marks.plot(
            [x for x, _v in running],
            [v for _x, v in running],
            color=LINE_COLOUR,
            linewidth=4,
            marker="o",
            markersize=9,
            label=chart.running_label,
        )
    for threshold in chart.thresholds:
        marks.axhline(
            threshold.percent,
            color=FAIL_COLOUR if threshold.passing_line else GRID_COLOUR,
            linewidth=3 if threshold.passing_line else 1.5,
            linestyle="-" if threshold.passing_line else "--",
            label=chart.pass_label if threshold.passing_line else None,
        )
    marks.set_ylim(0, 105)
    letters = marks.twinx()
    letters.set_ylim(marks.get_ylim())
    letters.set_yticks([t.percent for t in chart.thresholds], [t.label for t in chart.thresholds])
    for label, threshold in zip(letters.get_yticklabels(), chart.thresholds, strict=True):
        label.set_fontfamily(family)
        label.set_fontsize(BASE_FONT - 6)
        if threshold.passing_line:
            label.set_color(FAIL_COLOUR)
            label.set_fontweight("bold")
    letters.spines[["top"]].set_visible(False)
    marks.set_ylabel(chart.marks_axis, fontsize=BASE_FONT - 2, **font)
    marks.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=2,
        frameon=False,
        prop={"family": family, "size": BASE_FONT - 6},
    )
    shares = [100 * w.attended / w.held if w.held else None for w in chart.weeks]
    presence.bar(
        [x for x, s in zip(xs, shares, strict=True) if s is not None],
        [s for s in shares if s is not None],
        color=[
            PASS_COLOUR if s >= chart.attendance_floor else FAIL_COLOUR
            for s in shares
            if s is not None
        ],
        alpha=0.85,
    )
    presence.axhline(chart.attendance_floor, color=FAIL_COLOUR, linewidth=3)
    presence.set_title(
        chart.floor_label, loc="left", fontsize=BASE_FONT - 6, color=FAIL_COLOUR, **font
    )
    presence.set_ylim(0, 105)
    presence.set_ylabel(chart.attendance_axis, fontsize=BASE_FONT - 2, **font)
    step = max(1, -(-len(xs) // 10))
    presence.set_xticks(xs[::step], [w.label for w in chart.weeks][::step], rotation=35)
    marks.tick_params(labelbottom=False)
    _style(marks, family)
    _style(presence, family)
    return _png(figure, canvas)


def render_distribution_chart(chart: DistributionChart) -> bytes:
    """How many students' current averages fall in each letter band (PNG)."""
    if not any(band.count for band in chart.bands):
        return _empty(chart.title, chart.subtitle, chart.empty_text)
    figure, canvas, family = _figure(900)
    font = {"family": family}
    figure.suptitle(chart.title, fontsize=BASE_FONT + 4, fontweight="bold", **font)
    figure.text(0.5, 0.89, chart.subtitle, ha="center", fontsize=BASE_FONT - 2, **font)
    axes = figure.add_axes((0.1, 0.14, 0.86, 0.68))
    xs = list(range(len(chart.bands)))
    counts = [band.count for band in chart.bands]
    axes.bar(
        xs,
        counts,
        color=[PASS_COLOUR if band.passing else FAIL_COLOUR for band in chart.bands],
        alpha=0.85,
    )
    for x, count in zip(xs, counts, strict=True):
        if count:
            axes.text(
                x, count, str(count), ha="center", va="bottom", fontsize=BASE_FONT - 2, **font
            )
    first_pass = next((x for x, band in zip(xs, chart.bands, strict=True) if band.passing), None)
    if first_pass is not None:
        axes.axvline(first_pass - 0.5, color=FAIL_COLOUR, linewidth=3, linestyle="--")
        axes.text(
            first_pass - 0.4,
            max(counts) * 1.08,
            chart.pass_label,
            ha="left",
            fontsize=BASE_FONT - 6,
            color=FAIL_COLOUR,
            **font,
        )
    axes.set_ylim(0, max(counts) * 1.2 + 0.5)
    axes.set_xticks(xs, [band.label for band in chart.bands])
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(chart.count_axis, fontsize=BASE_FONT - 2, **font)
    axes.set_xlabel(chart.band_axis, fontsize=BASE_FONT - 2, **font)
    _style(axes, family)
    return _png(figure, canvas)


# ---- cache and concurrency -------------------------------------------------------------------

_cache: OrderedDict[str, bytes] = OrderedDict()
_semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
renders = 0
"""How many pictures were actually drawn (not served from the cache) in this process."""


def cache_key(data: object, locale: str) -> str:
    return hashlib.sha256(f"{locale}|{data!r}".encode()).hexdigest()


def _semaphore() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphore = _semaphores.get(loop)
    if semaphore is None:
        semaphore = _semaphores[loop] = asyncio.Semaphore(MAX_PARALLEL)
    return semaphore


async def png(data: StudentChart | DistributionChart, locale: str) -> bytes:
    """The picture of `data`: from the cache, or drawn in a worker thread and then cached."""
    global renders
    key = cache_key(data, locale)
    cached = _cache.get(key)
    if cached is not None:
        _cache.move_to_end(key)
        return cached
    draw = render_student_chart if isinstance(data, StudentChart) else render_distribution_chart
    async with _semaphore():
        cached = _cache.get(key)  # drawn by another press while this one waited
        if cached is not None:
            return cached
        picture = await asyncio.to_thread(draw, data)  # type: ignore[arg-type]
        renders += 1
    _cache[key] = picture
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return picture


def clear_cache() -> None:
    _cache.clear()
