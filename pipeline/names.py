"""Text, personal-name and insurer-name normalisation.

- ``normalize_text``: NFKC, whitespace runs → one ASCII space, stripped (labels, insurer names).
- ``normalize_name``: the document's spelling kept (CJK compatibility ideographs such as 﨑 are
  not folded); 姓 and 名 separated by one ASCII space when separated at all.
- ``fold_name``: a comparison key only (roster matching): standard forms of variant kanji,
  no spaces. Never shown to the user.

>>> normalize_name("田中　 一郎")
'田中 一郎'
>>> fold_name("髙﨑 太郎") == fold_name("高崎太郎")
True
>>> insurance_kind_from_insurer_name("全国健康保険協会 東京支部")
'kyokai'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_WS: Final = re.compile(r"\s+")

# Variant (異体字 / 旧字体) → standard form, as insurers commonly print them. Comparison only.
# 齋/齊/斉 all fold to 斎: they are interchanged in registered names (lenient on purpose).
KANJI_VARIANTS: Final[dict[str, str]] = {
    "髙": "高", "﨑": "崎", "嵜": "崎", "𠮷": "吉", "栁": "柳", "邊": "辺", "邉": "辺",
    "齋": "斎", "齊": "斎", "斉": "斎", "濵": "浜", "濱": "浜", "澤": "沢", "櫻": "桜",
    "廣": "広", "國": "国", "眞": "真", "德": "徳", "惠": "恵", "榮": "栄", "壽": "寿",
    "彌": "弥", "實": "実", "關": "関", "淺": "浅", "嶋": "島", "嶌": "島", "冨": "富",
    "桒": "桑", "槇": "槙", "瀨": "瀬", "靑": "青", "黑": "黒", "條": "条", "會": "会",
    "亞": "亜", "圓": "円", "藏": "蔵", "龜": "亀",
}  # fmt: skip

_FOLD_TABLE: Final = str.maketrans(KANJI_VARIANTS)


def _is_compat_ideograph(ch: str) -> bool:
    cp = ord(ch)
    return 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F


def normalize_text(text: str) -> str:
    """NFKC, whitespace runs collapsed to one ASCII space, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def normalize_name(text: str) -> str:
    """A personal name as printed: width-folded but with its kanji spelling kept.

    NFKC is applied per character except to CJK compatibility ideographs (which NFKC would
    replace by a different code point); any run of spaces becomes one ASCII space.
    """
    parts = [ch if _is_compat_ideograph(ch) else unicodedata.normalize("NFKC", ch) for ch in text]
    return _WS.sub(" ", "".join(parts)).strip()


def normalize_kana(text: str) -> str:
    """Kana name: half-width katakana → full-width (voiced marks composed), one space."""
    return normalize_text(text)


def fold_name(text: str) -> str:
    """Comparison key for a name: NFKC, variant kanji → standard forms, no spaces."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    return _WS.sub("", folded)


_MUNICIPALITY: Final = re.compile(r"[^\s]{1,12}?[市区町村](?:長)?(?:国民健康保険|国保)?")


def insurance_kind_from_insurer_name(name: str) -> str:
    """The insurance system named by an insurer name (保険者名称 / 交付者名), or ``unknown``."""
    text = _WS.sub("", normalize_text(name))
    if not text:
        return "unknown"
    if "船員保険" in text:
        return "senin"
    if "全国健康保険協会" in text or "協会けんぽ" in text:
        return "kyokai"
    if "後期高齢者医療" in text:
        return "koki"
    if "国民健康保険組合" in text or "国保組合" in text:
        return "kokuho_kumiai"
    if "健康保険組合" in text or "健保組合" in text:
        return "kumiai"
    if "共済組合" in text or "共済事業団" in text:
        return "kyosai"
    if "国民健康保険" in text or _MUNICIPALITY.fullmatch(text):
        return "kokuho"
    return "unknown"
