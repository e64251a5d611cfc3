"""The verdict rules (CONTRACT.md, "Default policy" and "Other verdict rules")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from pipeline.messages import reason_message
from pipeline.model import Field, Page, Reason
from pipeline.policy import load_policy
from pipeline.rules import judge, severity

POLICY = load_policy()
AS_OF = date(2025, 6, 1)
AFTER_CUTOFF = date(2025, 12, 2)


def F(name: str, state: str = "visible", value: str | None = None) -> Field:
    if value is None and state == "visible" and POLICY.action(name) == "keep":
        value = {"name": "田中 一郎", "insurer_name": "全国健康保険協会 東京支部"}.get(name, "x")
    return Field(name=name, state=state, value=value)


def page(doc_type: str = "kakuninsho_card", *fields: Field, confidence: float = 0.95,
         reasons: tuple[Reason, ...] = ()) -> Page:  # fmt: skip
    return Page(
        source=Path("scan.png"),
        index=0,
        image=np.zeros((4, 4, 3), np.uint8),
        doc_type=doc_type,
        confidence=confidence,
        fields={f.name: f for f in fields},
        reasons=reasons,
    )


GOOD = (
    F("name"),
    F("insurer_name"),
    F("valid_until", value="2029-11-30"),
    F("insurer_number", "masked"),
    F("symbol", "masked"),
    F("number", "masked"),
    F("branch", "masked"),
    F("birth_date", "masked"),
)


def codes(p: Page) -> list[tuple[str, str | None]]:
    return [(r.code, r.field) for r in p.reasons]


def replace_field(fields: tuple[Field, ...], new: Field) -> tuple[Field, ...]:
    return (*(f for f in fields if f.name != new.name), new)


CASES = [
    # (id, page, as_of, verdict, reasons)
    ("clean card", page("kakuninsho_card", *GOOD), AS_OF, "accept", []),
    ("clean slip", page("oshirase_slip", F("name"), F("insurer_name"), F("number", "masked")),
     AS_OF, "accept", []),
    ("unknown", page("unknown", confidence=0.9), AS_OF, "reject", [("unknown_document", None)]),
    ("unknown exposing a number", page("unknown", F("number")), AS_OF, "reject",
     [("unknown_document", None), ("exposed_restricted", "number")]),
    ("number visible", page("kakuninsho_card", *replace_field(GOOD, F("number"))), AS_OF,
     "reject", [("exposed_restricted", "number")]),
    ("qr visible", page("hokensho_card", F("name"), F("insurer_name"), F("qr_code")), AS_OF,
     "reject", [("exposed_restricted", "qr_code")]),
    ("birth date visible", page("oshirase_a4", *replace_field(GOOD, F("birth_date"))), AS_OF,
     "review", [("exposed_unneeded", "birth_date")]),
    ("unknown extra entry", page("oshirase_a4", *GOOD, F("handwritten_note")), AS_OF,
     "review", [("exposed_unneeded", "handwritten_note")]),
    ("name masked", page("kakuninsho_card", *replace_field(GOOD, F("name", "masked"))), AS_OF,
     "reject", [("required_masked", "name")]),
    ("insurer masked", page("oshirase_a4", *replace_field(GOOD, F("insurer_name", "masked"))),
     AS_OF, "reject", [("required_masked", "insurer_name")]),
    ("name absent", page("oshirase_a4", *replace_field(GOOD, F("name", "absent"))), AS_OF,
     "review", [("required_unreadable", "name")]),
    ("name visible but unread", page("oshirase_a4", *replace_field(
        GOOD, Field("name", "visible", value=None))), AS_OF, "review",
     [("required_unreadable", "name")]),
    ("insurer not found", page("oshirase_a4", *(f for f in GOOD if f.name != "insurer_name")),
     AS_OF, "review", [("required_unreadable", "insurer_name")]),
    ("kana masked is fine", page("oshirase_a4", *GOOD, F("name_kana", "masked")), AS_OF,
     "accept", []),
    ("expired", page("kakuninsho_card", *replace_field(GOOD, F("valid_until",
     value="2025-05-31"))), AS_OF, "reject", [("expired", "valid_until")]),
    ("valid on its last day", page("kakuninsho_card", *replace_field(GOOD, F("valid_until",
     value="2025-06-01"))), AS_OF, "accept", []),
    # Only name and insurer_name are required (CONTRACT.md); an unreadable expiry is no reason.
    ("card expiry unreadable", page("kakuninsho_card", *replace_field(GOOD, Field(
        "valid_until", "visible"))), AS_OF, "accept", []),
    ("card expiry masked", page("kakuninsho_card", *replace_field(GOOD, F(
        "valid_until", "masked"))), AS_OF, "accept", []),
    ("oshirase has no expiry", page("oshirase_a4", *(f for f in GOOD if f.name !=
     "valid_until")), AS_OF, "accept", []),
    ("oshirase 70-74 expired", page("oshirase_a4", *replace_field(GOOD, F("valid_until",
     value="2024-07-31"))), AS_OF, "reject", [("expired", "valid_until")]),
    ("old card before cutoff", page("hokensho_card", *GOOD), AS_OF, "accept", []),
    ("old card on the cutoff day", page("hokensho_card", *GOOD), date(2025, 12, 1), "accept", []),
    ("old card after cutoff", page("hokensho_card", *GOOD), AFTER_CUTOFF, "reject",
     [("legacy_card_expired", "valid_until")]),
    ("old card after cutoff, expiry unread", page("hokensho_card", *(
        f for f in GOOD if f.name != "valid_until")), AFTER_CUTOFF, "reject",
     [("legacy_card_expired", None)]),
    ("old card past own expiry", page("hokensho_card", *replace_field(GOOD, F("valid_until",
     value="2025-03-31"))), AS_OF, "reject", [("legacy_card_expired", "valid_until")]),
    ("old card without expiry", page("hokensho_card", *(f for f in GOOD if f.name !=
     "valid_until")), AS_OF, "accept", []),
    ("low confidence", page("oshirase_a4", *GOOD, confidence=0.59), AS_OF, "review",
     [("low_confidence", None)]),
    ("threshold itself is enough", page("oshirase_a4", *GOOD, confidence=0.6), AS_OF,
     "accept", []),
    ("fallback mask is informational", page("oshirase_a4", *GOOD, reasons=(
        Reason("masked_by_fallback", reason_message("masked_by_fallback", "number"),
               "number"),)), AS_OF, "accept", [("masked_by_fallback", "number")]),
    ("hidden text under restricted", page("mynaportal_pdf", *replace_field(GOOD, F("number")),
     reasons=(Reason("hidden_text", "", "number"),)), AS_OF, "reject",
     [("exposed_restricted", "number"), ("hidden_text", "number")]),
    ("file-level leak", page("mynaportal_pdf", *GOOD, reasons=(Reason("file_leak", ""),)),
     AS_OF, "reject", [("file_leak", None)]),
    ("unknown stage code", page("oshirase_a4", *GOOD, reasons=(Reason("future_check", ""),)),
     AS_OF, "review", [("future_check", None)]),
    ("worst wins", page("kakuninsho_card", *replace_field(replace_field(GOOD, F("sex")),
     F("symbol")), confidence=0.3), AS_OF, "reject",
     [("exposed_restricted", "symbol"), ("exposed_unneeded", "sex"), ("low_confidence", None)]),
    ("odd state fails closed", page("oshirase_a4", *replace_field(GOOD, F("number", "blurred"))),
     AS_OF, "reject", [("exposed_restricted", "number")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("p", "as_of", "verdict", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_judge(p: Page, as_of: date, verdict: str, expected: list) -> None:
    judged = judge(p, POLICY, as_of)
    assert judged.verdict == verdict
    assert codes(judged) == expected
    assert all(r.message for r in judged.reasons if r.code in {c for c, _ in expected})


def test_messages_come_from_the_catalogue() -> None:
    judged = judge(page("kakuninsho_card", *replace_field(GOOD, F("number"))), POLICY, AS_OF)
    assert judged.reasons[0].message == reason_message("exposed_restricted", "number")


def test_judge_is_idempotent_and_pure() -> None:
    p = page("oshirase_a4", *replace_field(GOOD, F("number")), confidence=0.2)
    once = judge(p, POLICY, AS_OF)
    assert judge(once, POLICY, AS_OF).reasons == once.reasons
    assert p.verdict is None and p.reasons == ()


def test_reason_order_is_stable_whatever_the_field_order() -> None:
    fields = [F("sex"), F("number"), F("birth_date"), F("symbol"), F("name"), F("insurer_name")]
    a = judge(page("oshirase_a4", *fields), POLICY, AS_OF)
    b = judge(page("oshirase_a4", *reversed(fields)), POLICY, AS_OF)
    assert (
        codes(a)
        == codes(b)
        == [
            ("exposed_restricted", "symbol"),
            ("exposed_restricted", "number"),
            ("exposed_unneeded", "birth_date"),
            ("exposed_unneeded", "sex"),
        ]
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (Reason("hidden_text", "", "number"), "reject"),
        (Reason("hidden_text", "", "birth_date"), "review"),
        (Reason("hidden_text", "", "name"), "accept"),
        (Reason("ocr_text_layer", ""), "reject"),
        (Reason("masked_by_fallback", ""), "accept"),
        (Reason("brand_new_code", ""), "review"),
    ],
)
def test_severity(reason: Reason, expected: str) -> None:
    assert severity(reason, POLICY) == expected
