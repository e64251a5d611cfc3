"""The only serializer: JSON records (CONTRACT.md, "The JSON record") and the Japanese table.

Privacy is enforced here whatever earlier stages did: a value is written only for a field the
policy keeps, that is ``visible`` and not restricted. A restricted field carrying a value at all
is a programming error and raises ``InternalError`` (the caller reports ``internal_error`` for
the file: nothing that could not be checked is reported as clean).

``Field.bbox`` is taken to be relative to the working image; records give boxes in the page as
submitted, mapped through ``page.to_source`` (enclosing rectangle, so boxes only grow).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from pipeline.errors import InternalError
from pipeline.geometry import map_box
from pipeline.messages import error_message, reason_message
from pipeline.model import Field, Page
from pipeline.policy import Policy
from pipeline.vocab import (
    DOC_TYPE_LABELS_JA,
    DOC_TYPES,
    FIELD_NAMES,
    INSURANCE_KINDS,
    RESTRICTED_FIELDS,
    STATES,
)

VERDICTS: Final = ("accept", "reject", "review")
VERDICT_LABELS_JA: Final[dict[str, str]] = {
    "accept": "受理",
    "reject": "差戻し",
    "review": "要確認",
    "error": "読取不可",
}
BBOX_DECIMALS: Final = 4
CONFIDENCE_DECIMALS: Final = 3


def page_record(
    page: Page, policy: Policy, output: str | Path | None = None, *, source: str | None = None
) -> dict[str, Any]:
    """The JSON record of one judged page. ``source`` overrides ``str(page.source)``."""
    if page.verdict not in VERDICTS:
        raise InternalError("internal_error")  # an unjudged page is never reported
    if page.doc_type not in DOC_TYPES:
        raise InternalError("internal_error")
    record: dict[str, Any] = {
        "source": source if source is not None else str(page.source),
        "page": page.index + 1,
        "doc_type": page.doc_type,
        "confidence": _confidence(page.confidence),
    }
    if page.insurance_kind is not None:
        kind = page.insurance_kind
        record["insurance_kind"] = kind if kind in INSURANCE_KINDS else "unknown"
    record["fields"] = {
        name: _field_record(page.fields[name], name, policy, page)
        for name in sorted(page.fields, key=_field_key)
    }
    record["verdict"] = page.verdict
    record["reasons"] = [_reason_record(r.code, r.field, r.message) for r in page.reasons]
    out = output if output is not None else page.output
    if out is not None:
        record["output"] = str(out)
    return record


def error_record(source: str | Path, code: str, message: str | None = None) -> dict[str, Any]:
    """The record of a file that could not be read (or failed internally)."""
    return {
        "source": str(source),
        "error": {"code": code, "message": message or error_message(code)},
    }


def to_json_line(record: Mapping[str, Any]) -> str:
    """One JSON Lines line (no trailing newline), UTF-8 text kept as is."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False)


def _confidence(value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return round(min(max(float(value), 0.0), 1.0), CONFIDENCE_DECIMALS)


def _field_key(name: str) -> tuple[int, str]:
    return (FIELD_NAMES.index(name) if name in FIELD_NAMES else len(FIELD_NAMES), name)


def _field_record(f: Field, name: str, policy: Policy, page: Page) -> dict[str, Any]:
    if f.value is not None and (name in RESTRICTED_FIELDS or f.name in RESTRICTED_FIELDS):
        raise InternalError("internal_error")  # a restricted value must never be held
    state = f.state if f.state in STATES else "visible"  # unexpected states fail closed
    rec: dict[str, Any] = {"state": state}
    if state == "visible" and f.value is not None and policy.action(name) == "keep":
        rec["value"] = f.value
    if f.bbox is not None:
        box = map_box(page.to_source, f.bbox)
        rec["bbox"] = [round(float(v), BBOX_DECIMALS) for v in box]
    return rec


def _reason_record(code: str, field: str | None, message: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"code": code}
    if field is not None:
        rec["field"] = field
    # Messages come from the catalogue; one that is missing is filled in from it.
    rec["message"] = message or reason_message(code, field)
    return rec


# --- the human-readable table -------------------------------------------------------------

_HEADERS: Final = ("ファイル", "頁", "書類", "判定", "理由")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _rows(record: Mapping[str, Any]) -> list[tuple[str, ...]]:
    source = str(record.get("source", ""))
    if "error" in record:
        err = record["error"]
        return [(source, "", "", VERDICT_LABELS_JA["error"], str(err.get("message", "")))]
    doc = DOC_TYPE_LABELS_JA.get(str(record.get("doc_type")), str(record.get("doc_type")))
    verdict = VERDICT_LABELS_JA.get(str(record.get("verdict")), str(record.get("verdict")))
    messages = [str(r.get("message", "")) for r in record.get("reasons", [])] or [""]
    first = (source, str(record.get("page", "")), doc, verdict, messages[0])
    return [first, *(("", "", "", "", m) for m in messages[1:])]


def format_table(records: Iterable[Mapping[str, Any]]) -> str:
    """A Japanese table (ファイル, 頁, 書類, 判定, 理由) with a one-line summary; one line per
    reason, continuation lines leave the first columns empty."""
    records = list(records)
    rows = [row for rec in records for row in _rows(rec)]
    widths = [max(_width(r[i]) for r in [_HEADERS, *rows]) for i in range(len(_HEADERS) - 1)]

    def line(row: tuple[str, ...]) -> str:
        cells = [_pad(c, w) for c, w in zip(row[:-1], widths, strict=True)]
        return "  ".join([*cells, row[-1]]).rstrip()

    rule = "  ".join("-" * w for w in [*widths, _width(_HEADERS[-1])])
    counts = {key: 0 for key in VERDICT_LABELS_JA}
    for rec in records:
        key = "error" if "error" in rec else str(rec.get("verdict"))
        if key in counts:
            counts[key] += 1
    summary = " / ".join(f"{VERDICT_LABELS_JA[k]} {counts[k]}" for k in VERDICT_LABELS_JA)
    return "\n".join([line(_HEADERS), rule, *(line(r) for r in rows), "", summary]) + "\n"
