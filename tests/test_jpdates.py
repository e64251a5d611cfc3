"""Japanese date parsing: era forms, western forms, OCR tolerance, impossible dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.jpdates import DateSpan, era_to_date, find_dates, format_era, parse_date

D = date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和6年12月2日", D(2024, 12, 2)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("令和1年5月1日", D(2019, 5, 1)),
        ("R6.12.2", D(2024, 12, 2)),
        ("R06.12.02", D(2024, 12, 2)),
        ("R元.5.1", D(2019, 5, 1)),
        ("H31.4.30", D(2019, 4, 30)),
        ("H1.1.8", D(1989, 1, 8)),
        ("S64.1.7", D(1989, 1, 7)),
        ("S1.12.25", D(1926, 12, 25)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("昭和50年3月15日", D(1975, 3, 15)),
        ("大正15年1月1日", D(1926, 1, 1)),
        ("令和6/12/2", D(2024, 12, 2)),
        ("R6-12-2", D(2024, 12, 2)),
        ("令和１１年１１月３０日", D(2029, 11, 30)),  # full-width digits
        ("Ｒ６．１２．２", D(2024, 12, 2)),
        ("㋿6年12月2日", D(2024, 12, 2)),  # the square era sign folds to 令和
        ("令和 6 年 12 月 2 日", D(2024, 12, 2)),
        ("令和　6年　12月　2日", D(2024, 12, 2)),
        ("合和6年12月2日", D(2024, 12, 2)),  # OCR: 令 read as 合
        ("今和6年12月2日", D(2024, 12, 2)),  # OCR: 令 read as 今
        ("令和6牟12月2日", D(2024, 12, 2)),  # OCR: 年 read as 牟
        ("令和6年12月2", D(2024, 12, 2)),  # 日 lost
        ("2024年12月2日", D(2024, 12, 2)),
        ("２０２４年１２月２日", D(2024, 12, 2)),
        ("2024/12/02", D(2024, 12, 2)),
        ("2024-12-02", D(2024, 12, 2)),
        ("2024.12.2", D(2024, 12, 2)),
        ("2024 年 12 月 2 日", D(2024, 12, 2)),
        ("令和11年11月30日迄有効", D(2029, 11, 30)),
        ("令和11年11月30日まで有効", D(2029, 11, 30)),
        ("令和6年12月2日発行", D(2024, 12, 2)),
        ("有効期限 令和11年11月30日", D(2029, 11, 30)),
        ("交付年月日：令和6年10月1日", D(2024, 10, 1)),
        ("2029-11-30", D(2029, 11, 30)),  # our own ISO output parses back
        ("令和6年12月2日 (令和6年12月2日)", D(2024, 12, 2)),  # the same date twice
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "令和6年2月30日",  # no such day
        "2023/02/29",  # not a leap year
        "令和6年13月1日",
        "令和6年0月1日",
        "平成31年5月1日",  # after the end of 平成: impossible, not rolled over to 令和元年
        "平成32年3月31日",  # printed on pre-2019 cards; treated as impossible (see module doc)
        "H31.5.1",
        "昭和64年1月8日",
        "S64.1.8",
        "平成元年1月7日",
        "令和元年4月30日",
        "R1.4.30",
        "S1.12.24",  # before 昭和 began
        "令和0年5月1日",
        "",
        "令和",
        "12月2日",  # no year: never guessed
        "令和6年12月",  # no day
        "R6.12",
        "03-1234-5678",  # a phone number
        "2024/12",
        "令和6年12月2日 令和11年11月30日",  # two different dates: ambiguous
        "平成100年1月1日",
        "XR6.12.2",  # a letter inside a word is not an era
    ],
)
def test_parse_date_impossible_or_absent(text: str) -> None:
    assert parse_date(text) is None


def test_find_dates_spans_index_the_original_text() -> None:
    text = "交付 ㋿６年１２月２日　有効期限 R11.11.30 迄有効, 2029/1/1"
    spans = find_dates(text)
    assert [s.value for s in spans] == [D(2024, 12, 2), D(2029, 11, 30), D(2029, 1, 1)]
    assert [text[s.start : s.end] for s in spans] == ["㋿６年１２月２日", "R11.11.30", "2029/1/1"]


def test_find_dates_reports_impossible_shapes() -> None:
    assert find_dates("令和6年2月30日") == [DateSpan(0, 9, None)]
    assert find_dates("no date here") == []


@pytest.mark.parametrize(
    ("era", "y", "m", "d", "expected"),
    [
        ("令和", 1, 5, 1, D(2019, 5, 1)),
        ("R", 6, 12, 2, D(2024, 12, 2)),
        ("合和", 6, 12, 2, D(2024, 12, 2)),
        ("平成", 31, 5, 1, None),
        ("昭和", 64, 1, 7, D(1989, 1, 7)),
        ("明治", 1, 1, 1, None),
        ("令和", 0, 1, 1, None),
    ],
)
def test_era_to_date(era: str, y: int, m: int, d: int, expected: date | None) -> None:
    assert era_to_date(era, y, m, d) == expected


_FULL = str.maketrans("0123456789./", "０１２３４５６７８９．／")


def _forms(d: date) -> list[str]:
    kanji = format_era(d, "kanji")
    return [
        kanji,
        kanji.translate(_FULL),
        format_era(d, "letter"),
        format_era(d, "letter0"),
        format_era(d, "letter").translate(_FULL),
        kanji + "迄有効",
        kanji + "発行",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}/{d.month:02d}/{d.day:02d}",
        d.isoformat(),
    ]


@given(st.dates(min_value=date(1926, 12, 25), max_value=date(2099, 12, 31)))
def test_round_trip_every_era_style(d: date) -> None:
    for text in _forms(d):
        assert parse_date(text) == d, text


def test_format_era_uses_gannen() -> None:
    assert format_era(D(2019, 5, 1)) == "令和元年5月1日"
    assert format_era(D(1989, 1, 7), "letter0") == "S64.01.07"
    with pytest.raises(ValueError):
        format_era(D(1900, 1, 1))
