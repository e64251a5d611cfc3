"""Name and text normalisation, comparison folding, insurance kind from the insurer name."""

from __future__ import annotations

import pytest

from pipeline.names import (
    fold_name,
    insurance_kind_from_insurer_name,
    normalize_kana,
    normalize_name,
    normalize_text,
)

COMPAT_KAMI = chr(0xFA19)  # CJK compatibility ideograph 神 (NFKC → U+795E)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  全国健康保険協会　　東京支部 ", "全国健康保険協会 東京支部"),
        ("ＡＢＣ\t１２３", "ABC 123"),
        ("a\n\nb", "a b"),
        ("", ""),
        ("ﾀﾅｶ", "タナカ"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("田中　一郎", "田中 一郎"),  # full-width space
        ("田中 一郎", "田中 一郎"),
        ("田中 　 一郎 ", "田中 一郎"),
        ("田中一郎", "田中一郎"),  # no separator: kept as printed
        ("髙﨑　太郎", "髙﨑 太郎"),  # variant kanji kept
        ("𠮷田 花子", "𠮷田 花子"),
        (f"{COMPAT_KAMI}田 一郎", f"{COMPAT_KAMI}田 一郎"),  # compatibility ideograph kept
        ("ＳＭＩＴＨ　ＪＯＨＮ", "SMITH JOHN"),
    ],
)
def test_normalize_name_keeps_spelling(text: str, expected: str) -> None:
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ﾀﾅｶ ｲﾁﾛｳ", "タナカ イチロウ"),
        ("ﾀﾅｶ　　ｲﾁﾛｳ", "タナカ イチロウ"),
        ("ﾔﾏｻﾞｷ ﾊﾟﾄﾘｯｸ", "ヤマザキ パトリック"),  # voiced marks composed
        ("タナカ イチロウ", "タナカ イチロウ"),
    ],
)
def test_normalize_kana(text: str, expected: str) -> None:
    assert normalize_kana(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙橋 一郎", "高橋一郎"),
        ("山﨑　花子", "山崎 花子"),
        ("𠮷田太郎", "吉田 太郎"),
        ("栁田", "柳田"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("齋藤", "斎藤"),
        ("齊藤", "斎藤"),
        ("濵田", "浜田"),
        ("濱田", "浜田"),
        ("小澤", "小沢"),
        ("廣瀬", "広瀬"),
        (f"{COMPAT_KAMI}田", "神田"),
        ("ﾀﾅｶ ｲﾁﾛｳ", "タナカイチロウ"),
    ],
)
def test_fold_name_matches_variants(a: str, b: str) -> None:
    assert fold_name(a) == fold_name(b)


@pytest.mark.parametrize(("a", "b"), [("田中一郎", "田中二郎"), ("高橋", "髙田"), ("吉田", "古田")])
def test_fold_name_keeps_different_names_apart(a: str, b: str) -> None:
    assert fold_name(a) != fold_name(b)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("全国健康保険協会 東京支部", "kyokai"),
        ("全国健康保険協会　大阪支部", "kyokai"),
        ("協会けんぽ 北海道支部", "kyokai"),
        ("全国健康保険協会 船員保険部", "senin"),
        ("全国健康保険協会（船員保険部）", "senin"),
        ("関東ITソフトウェア健康保険組合", "kumiai"),
        ("東日本テスト建設健康保険組合", "kumiai"),
        ("出版健保組合", "kumiai"),
        ("全国建設工事業国民健康保険組合", "kokuho_kumiai"),
        ("東京土建国民健康保険組合", "kokuho_kumiai"),
        ("東京都建設業国保組合", "kokuho_kumiai"),
        ("国家公務員共済組合", "kyosai"),
        ("公立学校共済組合", "kyosai"),
        ("警察共済組合", "kyosai"),
        ("東京都職員共済組合", "kyosai"),
        ("日本私立学校振興・共済事業団", "kyosai"),
        ("東京都後期高齢者医療広域連合", "koki"),
        ("千代田区", "kokuho"),
        ("東京都北区", "kokuho"),
        ("横浜市", "kokuho"),
        ("さいたま市", "kokuho"),
        ("西多摩郡瑞穂町", "kokuho"),
        ("檜原村", "kokuho"),
        ("札幌市国民健康保険", "kokuho"),
        ("大阪市長", "kokuho"),
        ("国民健康保険", "kokuho"),
        ("株式会社テスト建設", "unknown"),
        ("東京都", "unknown"),
        ("", "unknown"),
        ("ＸＹＺ", "unknown"),
    ],
)
def test_insurance_kind_from_insurer_name(name: str, kind: str) -> None:
    assert insurance_kind_from_insurer_name(name) == kind
