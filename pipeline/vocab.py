"""The contract's vocabulary: document types, field names, states, verdicts (CONTRACT.md)."""

from __future__ import annotations

from typing import Final, Literal

DocType = Literal[
    "oshirase_a4", "oshirase_slip", "mynaportal_pdf", "kakuninsho_card", "hokensho_card", "unknown"
]
DOC_TYPES: Final[tuple[str, ...]] = (
    "oshirase_a4",
    "oshirase_slip",
    "mynaportal_pdf",
    "kakuninsho_card",
    "hokensho_card",
    "unknown",
)

State = Literal["visible", "masked", "absent"]
STATES: Final[tuple[str, ...]] = ("visible", "masked", "absent")

Verdict = Literal["accept", "reject", "review"]

InsuranceKind = Literal[
    "kyokai", "kumiai", "kyosai", "senin", "kokuho", "kokuho_kumiai", "koki", "unknown"
]
INSURANCE_KINDS: Final[tuple[str, ...]] = (
    "kyokai", "kumiai", "kyosai", "senin", "kokuho", "kokuho_kumiai", "koki", "unknown",
)

FIELD_NAMES: Final[tuple[str, ...]] = (
    "name", "name_kana", "birth_date", "sex", "address", "insurer_name", "employer_name",
    "holder_type", "effective_from", "householder_name", "mynumber_last4",
    "insurer_number", "symbol", "number", "branch", "qr_code",
    "burden_ratio", "qualified_on", "issued_on", "valid_until",
)

# 告知要求制限: values of these fields never leave the process (CONTRACT.md, DOMAIN.md).
RESTRICTED_FIELDS: Final[frozenset[str]] = frozenset(
    {"insurer_number", "symbol", "number", "branch", "qr_code"}
)

FIELD_LABELS_JA: Final[dict[str, str]] = {
    "name": "氏名", "name_kana": "フリガナ", "birth_date": "生年月日", "sex": "性別",
    "address": "住所", "insurer_name": "保険者名称", "employer_name": "事業所名称",
    "holder_type": "本人・家族の別", "effective_from": "発効期日",
    "householder_name": "世帯主氏名", "mynumber_last4": "マイナンバー（下4桁）",
    "insurer_number": "保険者番号", "symbol": "記号", "number": "番号", "branch": "枝番",
    "qr_code": "QRコード", "burden_ratio": "負担割合", "qualified_on": "資格取得年月日",
    "issued_on": "交付年月日", "valid_until": "有効期限",
}

DOC_TYPE_LABELS_JA: Final[dict[str, str]] = {
    "oshirase_a4": "資格情報のお知らせ(A4)",
    "oshirase_slip": "資格情報のお知らせ(切り取り部分)",
    "mynaportal_pdf": "マイナポータル資格情報",
    "kakuninsho_card": "資格確認書",
    "hokensho_card": "健康保険証(旧)",
    "unknown": "不明な書類",
}
