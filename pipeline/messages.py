"""The Japanese message catalogue: reason codes (findings on a page) and error codes (input,
usage and internal failures).

Templates take only a field's Japanese label (``{label}``) — never a value. A reason that may or
may not concern a field has a second, field-less template.

>>> reason_message("exposed_restricted", "number")
'被保険者等記号・番号が黒塗りされていません（健康保険法第194条の2）'
"""

from __future__ import annotations

from typing import Final

from pipeline.vocab import FIELD_LABELS_JA

_LAW: Final = "（健康保険法第194条の2）"

# Labels used in messages where the statute's wording is clearer than the field table's.
MESSAGE_LABELS_JA: Final[dict[str, str]] = {
    "number": "被保険者等記号・番号",
    "symbol": "被保険者等記号・番号の記号",
    "branch": "被保険者等記号・番号の枝番",
    "qr_code": "記号・番号を含むQRコード",
}

# code → (template with {label}, template without a field)
REASONS: Final[dict[str, tuple[str, str]]] = {
    "required_masked": (
        "{label}が黒塗りされています（加入の確認に必要な項目です）",
        "加入の確認に必要な項目が黒塗りされています",
    ),
    "required_unreadable": (
        "{label}が読み取れません（加入の確認に必要な項目です）",
        "加入の確認に必要な項目が読み取れません",
    ),
    "exposed_restricted": (
        "{label}が黒塗りされていません" + _LAW,
        "保険者番号・被保険者等記号・番号が黒塗りされていません" + _LAW,
    ),
    "exposed_unneeded": (
        "{label}が黒塗りされていません（加入の確認に不要な項目です）",
        "加入の確認に不要な個人情報が黒塗りされていません",
    ),
    "unknown_document": (
        "{label}を含む書類ですが、加入の確認に使える書類ではありません",
        "加入の確認に使える書類ではありません（資格情報のお知らせ・資格確認書・"
        "マイナポータルの資格情報を提出してください）",
    ),
    "legacy_card_expired": (
        "{label}を過ぎた従来の健康保険証です",
        "従来の健康保険証は有効期限を過ぎているか、2025年12月1日を過ぎたため使えません",
    ),
    "expired": ("{label}を過ぎています", "有効期限を過ぎています"),
    "low_confidence": (
        "{label}の読み取りに自信がありません（目視で確認してください）",
        "書類の種類を確実に判定できません（目視で確認してください）",
    ),
    "restricted_unlocated": (
        "{label}の位置を特定できません（黒塗りされているか目視で確認してください）",
        "保険者番号・記号・番号の位置を特定できません（目視で確認してください）",
    ),
    "masked_by_fallback": (
        "{label}の位置を特定できないため、周辺を広めに黒塗りしました",
        "位置を特定できない項目があるため、広めに黒塗りしました",
    ),
    "not_on_roster": ("{label}が作業員名簿と一致しません", "作業員名簿に該当する人がいません"),
    "insurance_kind_mismatch": (
        "{label}から見た保険の種類が就労形態と合っていない可能性があります",
        "保険の種類が就労形態と合っていない可能性があります",
    ),
    "dependant_document": (
        "{label}が「家族（被扶養者）」の書類です（本人が被保険者か確認してください）",
        "家族（被扶養者）としての書類です（本人が被保険者か確認してください）",
    ),
    "normalization_failed": (
        "{label}の周辺の画像を補正できませんでした（目視で確認してください）",
        "画像の傾きや歪みを補正できませんでした（目視で確認してください）",
    ),
    "orientation_uncertain": (
        "{label}の向きを確定できません（目視で確認してください）",
        "画像の向きを確定できません（目視で確認してください）",
    ),
    "hidden_text": (
        "{label}の上に黒い図形がありますが、下の文字が PDF に残っています"
        "（黒塗りになっていません）",
        "黒い図形の下の文字が PDF に残っています（黒塗りになっていません）",
    ),
    "ocr_text_layer": (
        "画像の下の透明な文字（OCR テキスト）に{label}が残っています",
        "画像の下の透明な文字（OCR テキスト）に黒塗り前の情報が残っています",
    ),
    "unapplied_redaction": (
        "{label}の墨消し注釈が適用されておらず、下の情報が残っています",
        "PDF の墨消し注釈が適用されておらず、下の情報が残っています",
    ),
    "file_leak": (
        "PDF の履歴に黒塗り前の{label}が残っています",
        "PDF の履歴に黒塗り前の情報が残っています",
    ),
    "thumbnail_leak": (
        "画像ファイルのサムネイルに黒塗り前の{label}が残っています",
        "画像ファイルに埋め込まれたサムネイルに黒塗り前の画像が残っています",
    ),
    "trailing_data": (
        "画像ファイルの末尾の余分なデータに{label}が残っている可能性があります",
        "画像ファイルの末尾に余分なデータがあり、黒塗り前の情報が残っている可能性があります",
    ),
    "redaction_unverified": (
        "黒塗り後の確認で{label}がまだ読み取れました（この頁は出力していません）",
        "黒塗り後の確認に失敗しました（この頁は出力していません）",
    ),
    "output_not_written": (
        "{label}を安全に黒塗りできないため、この頁は出力していません",
        "安全に黒塗りできない箇所があるため、この頁は出力していません",
    ),
}

ERRORS: Final[dict[str, str]] = {
    # Input that cannot be read (exit status 2).
    "empty_file": "ファイルが空です",
    "truncated": "ファイルが途中で切れています（保存やダウンロードをやり直してください）",
    "corrupt": "ファイルが壊れているため読み込めません",
    "encrypted": "パスワードで保護された PDF は読み込めません（保護を解除して提出してください）",
    "unsupported_type": "対応していないファイル形式です（PDF・PNG・JPEG・TIFF・BMP・WebP に対応）",
    "too_large": "ファイルが大きすぎます",
    "too_many_pages": "ページ数が多すぎます",
    "decompression_bomb": "画像の画素数が大きすぎるため読み込みを中止しました",
    "not_found": "ファイルが見つかりません",
    "permission_denied": "ファイルを読む権限がありません",
    "timeout": "処理が時間内に終わりませんでした（この書類は確認できていません）",
    # A failure of ours on a readable file (exit status 2): never reported as clean.
    "internal_error": "内部エラーのため確認できませんでした（この書類は確認できていません）",
    # Bad usage (exit status 64).
    "bad_arguments": "コマンドの指定が正しくありません",
    "bad_as_of": "--as-of の日付は YYYY-MM-DD の形式で指定してください",
    "no_inputs": "確認するファイルが指定されていません",
    "output_dir_invalid": "出力先フォルダを作成または書き込みできません",
    "output_would_overwrite": "入力ファイルを上書きする出力先は指定できません",
    "policy_not_found": "ポリシーが見つかりません（名前またはTOMLファイルを指定してください）",
    "policy_invalid": "ポリシーファイルの形式が正しくありません",
    "policy_unknown_field": "ポリシーに不明な項目名があります",
    "policy_duplicate_field": "ポリシーで同じ項目が複数の区分に指定されています",
    "policy_missing_field": "ポリシーで区分が指定されていない項目があります",
    "policy_restricted_keep": (
        "保険者番号・被保険者等記号・番号は法律で収集が禁止されているため"
        "「残す」区分には指定できません（健康保険法第194条の2）"
    ),
    "policy_bad_threshold": "ポリシーの信頼度のしきい値は0から1の間で指定してください",
    "policy_required_not_kept": "確認に必須の項目は「残す」区分に指定してください",
}


def field_label(field: str) -> str:
    """The Japanese label of a contract field; unknown names get a generic label."""
    return FIELD_LABELS_JA.get(field, "その他の記載事項")


def reason_message(code: str, field: str | None = None) -> str:
    """The Japanese message for a reason code, naming the field when given."""
    templates = REASONS.get(code)
    if templates is None:
        return "確認が必要な点があります（目視で確認してください）"
    if field is None:
        return templates[1]
    return templates[0].format(label=MESSAGE_LABELS_JA.get(field, field_label(field)))


def error_message(code: str, fields: tuple[str, ...] = ()) -> str:
    """The Japanese message for an error code, listing field labels when given."""
    text = ERRORS.get(code, ERRORS["internal_error"])
    if fields:
        text += "：" + "、".join(_field_mention(f) for f in fields)
    return text


def _field_mention(field: str) -> str:
    """A field's label, or the raw name of a policy-file key if it is a plain identifier."""
    if field in FIELD_LABELS_JA:
        return f"{FIELD_LABELS_JA[field]}（{field}）"
    if field.isascii() and field.replace("_", "").replace("-", "").isalnum() and len(field) <= 40:
        return field
    return "（不正な名前）"
