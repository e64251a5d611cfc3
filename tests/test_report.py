"""The serializer: contract JSON records, privacy enforcement, the Japanese table."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InternalError
from pipeline.geometry import BBox
from pipeline.model import Field, Page
from pipeline.policy import load_policy
from pipeline.report import error_record, format_table, page_record, to_json_line
from pipeline.rules import judge
from pipeline.vocab import RESTRICTED_FIELDS

POLICY = load_policy()
SECRET = "0104001398765432"  # stands for a restricted value: must never be printed
KYOKAI = "全国健康保険協会 東京支部"
EXAMPLE_MESSAGE = "被保険者等記号・番号が黒塗りされていません（健康保険法第194条の2）"


def make_page(fields: dict[str, Field], **kw: object) -> Page:
    base: dict[str, object] = {
        "source": Path("scans/tanaka.jpg"),
        "index": 0,
        "image": np.zeros((4, 4, 3), np.uint8),
        "doc_type": "kakuninsho_card",
        "confidence": 0.9712,
        "insurance_kind": "kyokai",
        "fields": fields,
    }
    base.update(kw)
    return Page(**base)  # type: ignore[arg-type]


def contract_example() -> Page:
    b: dict[str, BBox] = {
        "name": (0.12, 0.30, 0.55, 0.36),
        "insurer_name": (0.1, 0.8, 0.7, 0.86),
        "valid_until": (0.5, 0.1, 0.9, 0.15),
        "symbol": (0.1, 0.2, 0.3, 0.25),
        "number": (0.35, 0.2, 0.6, 0.25),
    }
    fields = {
        "name": Field("name", "visible", b["name"], "田中 一郎"),
        "insurer_name": Field("insurer_name", "visible", b["insurer_name"], KYOKAI),
        "valid_until": Field("valid_until", "visible", b["valid_until"], "2029-11-30"),
        "symbol": Field("symbol", "masked", b["symbol"]),
        "number": Field("number", "visible", b["number"]),
    }  # fmt: skip
    return judge(make_page(fields), POLICY, date(2025, 6, 1))


def test_record_matches_the_contract_example() -> None:
    record = page_record(contract_example(), POLICY, output="out/tanaka.redacted.png")
    assert record == {
        "source": "scans/tanaka.jpg",
        "page": 1,
        "doc_type": "kakuninsho_card",
        "confidence": 0.971,
        "insurance_kind": "kyokai",
        "fields": {
            "name": {"state": "visible", "value": "田中 一郎", "bbox": [0.12, 0.3, 0.55, 0.36]},
            "insurer_name": {"state": "visible", "value": KYOKAI,
                             "bbox": [0.1, 0.8, 0.7, 0.86]},
            "valid_until": {"state": "visible", "value": "2029-11-30",
                            "bbox": [0.5, 0.1, 0.9, 0.15]},
            "symbol": {"state": "masked", "bbox": [0.1, 0.2, 0.3, 0.25]},
            "number": {"state": "visible", "bbox": [0.35, 0.2, 0.6, 0.25]},
        },
        "verdict": "reject",
        "reasons": [{"code": "exposed_restricted", "field": "number",
                     "message": EXAMPLE_MESSAGE}],
        "output": "out/tanaka.redacted.png",
    }  # fmt: skip
    assert list(record) == [
        "source", "page", "doc_type", "confidence", "insurance_kind", "fields", "verdict",
        "reasons", "output",
    ]  # fmt: skip


@pytest.mark.parametrize("field", sorted(RESTRICTED_FIELDS))
@pytest.mark.parametrize("state", ["visible", "masked", "absent"])
def test_restricted_value_is_a_programming_error(field: str, state: str) -> None:
    p = judge(make_page({field: Field(field, state, value=SECRET)}), POLICY, date(2025, 6, 1))
    with pytest.raises(InternalError) as info:
        page_record(p, POLICY)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert info.value.code == "internal_error"


@pytest.mark.parametrize("field", ["birth_date", "address", "mynumber_last4", "handwritten"])
def test_values_of_masked_groups_are_dropped(field: str) -> None:
    p = judge(make_page({field: Field(field, "visible", value=SECRET)}), POLICY, date(2025, 6, 1))
    record = page_record(p, POLICY)
    assert "value" not in record["fields"][field]
    assert SECRET not in to_json_line(record) and SECRET not in format_table([record])


@pytest.mark.parametrize("state", ["masked", "absent"])
def test_kept_values_only_when_visible(state: str) -> None:
    p = judge(make_page({"name": Field("name", state, value="田中 一郎")}), POLICY, date.today())
    assert page_record(p, POLICY)["fields"]["name"] == {"state": state}


def test_bbox_is_rounded_and_mapped_to_the_source_page() -> None:
    # The working image was rotated 90° clockwise: x_src = y_work, y_src = 1 - x_work.
    to_source = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    f = Field("name", "visible", (0.123456, 0.2, 0.3, 0.4), "田中 一郎")
    p = judge(make_page({"name": f}, to_source=to_source), POLICY, date(2025, 6, 1))
    assert page_record(p, POLICY)["fields"]["name"]["bbox"] == [0.2, 0.7, 0.4, 0.8765]


def test_optional_keys() -> None:
    p = judge(make_page({}, insurance_kind=None, index=2), POLICY, date(2025, 6, 1))
    record = page_record(p, POLICY)
    assert "insurance_kind" not in record and "output" not in record
    assert record["page"] == 3
    assert page_record(p, POLICY, source="./given/path.png")["source"] == "./given/path.png"
    odd = judge(make_page({}, insurance_kind="martian"), POLICY, date(2025, 6, 1))
    assert page_record(odd, POLICY)["insurance_kind"] == "unknown"


def test_output_from_page() -> None:
    p = judge(make_page({}, output=Path("out/x.redacted.png")), POLICY, date(2025, 6, 1))
    assert page_record(p, POLICY)["output"] == "out/x.redacted.png"


@pytest.mark.parametrize("kw", [{"verdict": None}, {"verdict": "maybe"}, {"doc_type": "bogus"}])
def test_unjudged_or_malformed_page_is_never_reported(kw: dict) -> None:
    with pytest.raises(InternalError):
        page_record(make_page({}, **kw), POLICY)


def test_confidence_is_clamped_and_rounded() -> None:
    for raw, shown in [(0.97123, 0.971), (1.5, 1.0), (-1.0, 0.0), (float("nan"), 0.0)]:
        p = judge(make_page({}, confidence=raw), POLICY, date(2025, 6, 1))
        assert page_record(p, POLICY)["confidence"] == shown


def test_error_record_and_json_line() -> None:
    rec = error_record(Path("bad.pdf"), "encrypted")
    assert rec == {"source": "bad.pdf", "error": {"code": "encrypted", "message": rec["error"]
                                                  ["message"]}}  # fmt: skip
    assert "パスワード" in rec["error"]["message"]
    line = to_json_line(rec)
    assert "\n" not in line and "パスワード" in line and json.loads(line) == rec
    assert error_record("x", "corrupt", "custom")["error"]["message"] == "custom"


def test_json_line_keeps_japanese_and_refuses_nan() -> None:
    assert to_json_line({"a": "氏名"}) == '{"a": "氏名"}'
    with pytest.raises(ValueError):
        to_json_line({"a": float("nan")})


def test_table_lists_pages_errors_and_reasons() -> None:
    good = judge(
        make_page({"name": Field("name", "visible", value="田中 一郎"),
                   "insurer_name": Field("insurer_name", "visible", value="協会")},
                  doc_type="oshirase_a4", source=Path("ok.png")),
        POLICY, date(2025, 6, 1),
    )  # fmt: skip
    bad = contract_example()
    records = [
        page_record(good, POLICY),
        page_record(bad, POLICY),
        error_record("broken.pdf", "corrupt"),
    ]
    table = format_table(records)
    lines = table.splitlines()
    assert lines[0].split() == ["ファイル", "頁", "書類", "判定", "理由"]
    assert "資格情報のお知らせ(A4)" in table and "資格確認書" in table
    assert "受理" in table and "差戻し" in table and "読取不可" in table
    assert "被保険者等記号・番号が黒塗りされていません" in table
    assert lines[-1] == "受理 1 / 差戻し 1 / 要確認 0 / 読取不可 1"
    assert "田中" not in table  # values are not part of the table
    # Columns line up on screen (East Asian wide characters count double).
    starts = {display_width(line[: line.index(m)]) for line, m in [
        (lines[0], "理由"), (lines[3], "被保険者等"), (lines[4], "ファイルが壊れて"),
    ]}  # fmt: skip
    assert len(starts) == 1


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_privacy_sweep_over_every_field_and_state() -> None:
    """No value of a non-kept field reaches any output, whatever the field's state."""
    fields = {
        name: Field(name, state, value=None if name in RESTRICTED_FIELDS else SECRET + name)
        for name, state in [
            ("birth_date", "visible"), ("sex", "masked"), ("address", "absent"),
            ("number", "visible"), ("symbol", "masked"), ("mynumber_last4", "visible"),
        ]
    }  # fmt: skip
    p = judge(make_page(fields), POLICY, date(2025, 6, 1))
    record = page_record(p, POLICY)
    text = to_json_line(record) + format_table([record])
    assert SECRET not in text
