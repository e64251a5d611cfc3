"""Japanese dates (era and western) → ``datetime.date``; impossible dates are None, never guessed.

Accepted forms, with full-width digits, spaces between tokens and NFKC-foldable signs
(``㋿``, ``．``, ``／``) tolerated::

    令和6年12月2日  令和元年5月1日  R6.12.2  R06.12.02  H31.4.30  S64.1.7  令和6/12/2
    2024年12月2日  2024/12/02  2024-12-02  2024.12.2

Text around a date (labels, ``迄有効``, ``まで有効``, ``発行``) is ignored. OCR confusions are
accepted only where the surrounding pattern makes them unambiguous: ``合和`` / ``今和`` for
``令和`` and ``牟`` for ``年`` (each still needs the full year-month-day shape).

A date outside its era is impossible (平成31年5月1日, 昭和64年1月8日, 令和元年4月30日 → None),
even though cards printed before an era change sometimes carried such dates (平成32年…迄有効):
they are long expired, and an unreadable date sends a page to review rather than guessing.

>>> parse_date("令和6年12月2日迄有効")
datetime.date(2024, 12, 2)
>>> parse_date("平成31年5月1日") is None
True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    letter: str  # R
    first: date
    last: date | None  # None: current era


ERAS: Final[tuple[Era, ...]] = (
    Era("令和", "R", date(2019, 5, 1), None),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("大正", "T", date(1912, 7, 30), date(1926, 12, 25)),  # birth dates of the very old
)
_BY_KEY: Final[dict[str, Era]] = {k: e for e in ERAS for k in (e.name, e.letter)}
# OCR misreadings accepted for the era name (only inside a full date pattern).
_ERA_ALIASES: Final[dict[str, str]] = {"合和": "令和", "今和": "令和"}

_SP = r"[ \t]*"
_ERA_NAMES = "|".join([*(e.name for e in ERAS), *_ERA_ALIASES])
_ERA_LETTERS = "".join(e.letter for e in ERAS)
_ERA_DATE = re.compile(
    rf"(?:(?P<ename>{_ERA_NAMES})|(?<![A-Za-z])(?P<eletter>[{_ERA_LETTERS}]))"
    rf"{_SP}(?P<y>元|\d{{1,2}})(?!\d){_SP}"
    rf"(?:[年牟]{_SP}(?P<km>\d{{1,2}}){_SP}月{_SP}(?P<kd>\d{{1,2}})(?!\d)(?:{_SP}日)?"
    rf"|(?P<sep>[./-]){_SP}(?P<nm>\d{{1,2}}){_SP}(?P=sep){_SP}(?P<nd>\d{{1,2}})(?!\d))"
)
_WESTERN_DATE = re.compile(
    rf"(?<!\d)(?P<y>(?:18|19|20)\d\d)"
    rf"(?:{_SP}[年牟]{_SP}(?P<km>\d{{1,2}}){_SP}月{_SP}(?P<kd>\d{{1,2}})(?!\d)(?:{_SP}日)?"
    rf"|(?P<sep>[./-])(?P<nm>\d{{1,2}})(?P=sep)(?P<nd>\d{{1,2}})(?!\d))"
)


@dataclass(frozen=True)
class DateSpan:
    """A date-shaped run of text at ``[start, end)`` of the original string.

    ``value`` is None when the text has the shape of a date but names an impossible one.
    """

    start: int
    end: int
    value: date | None


def _normalize(text: str) -> tuple[str, list[int]]:
    """NFKC per character, with a map from each output character to its source index."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch)
        if folded.isspace():
            folded = " "
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def era_to_date(era: str, year: int, month: int, day: int) -> date | None:
    """Convert an era date; None if the date does not exist or lies outside its era.

    ``era`` is a name (令和), a letter (R) or an accepted OCR alias (合和).
    """
    found = _BY_KEY.get(_ERA_ALIASES.get(era, era))
    if found is None or year < 1:
        return None
    try:
        result = date(found.first.year + year - 1, month, day)
    except ValueError:
        return None
    if result < found.first or (found.last is not None and result > found.last):
        return None
    return result


def _western(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _match_value(m: re.Match[str], era: bool) -> date | None:
    month = int(m.group("km") or m.group("nm"))
    day = int(m.group("kd") or m.group("nd"))
    if not era:
        return _western(int(m.group("y")), month, day)
    y = m.group("y")
    year = 1 if y == "元" else int(y)
    return era_to_date(m.group("ename") or m.group("eletter"), year, month, day)


def find_dates(text: str) -> list[DateSpan]:
    """Every date-shaped run in ``text``, in order, with spans into the original string."""
    norm, index = _normalize(text)
    found: list[tuple[int, int, date | None]] = []
    for pattern, era in ((_ERA_DATE, True), (_WESTERN_DATE, False)):
        for m in pattern.finditer(norm):
            s, e = m.span()
            if any(s < fe and fs < e for fs, fe, _ in found):
                continue
            found.append((s, e, _match_value(m, era)))
    found.sort(key=lambda t: t[0])
    return [DateSpan(index[s], index[e - 1] + 1, v) for s, e, v in found]


def parse_date(text: str) -> date | None:
    """The one date in ``text``; None when there is none, it is impossible, or there are several.

    Several *equal* dates (a value printed twice) count as one.
    """
    values = {span.value for span in find_dates(text)}
    if len(values) != 1:
        return None
    return values.pop()


def format_era(d: date, style: str = "kanji") -> str:
    """Format ``d`` in its era: ``kanji`` (令和6年12月2日, 元年), ``letter`` (R6.12.2),
    ``letter0`` (R06.12.02). Raises ValueError before 大正 (used by tests and fixtures)."""
    for era in ERAS:
        if d >= era.first and (era.last is None or d <= era.last):
            year = d.year - era.first.year + 1
            if style == "kanji":
                ytext = "元" if year == 1 else str(year)
                return f"{era.name}{ytext}年{d.month}月{d.day}日"
            if style == "letter":
                return f"{era.letter}{year}.{d.month}.{d.day}"
            if style == "letter0":
                return f"{era.letter}{year:02d}.{d.month:02d}.{d.day:02d}"
            raise ValueError("unknown style")
    raise ValueError("date before the supported eras")
