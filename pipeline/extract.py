"""Turn the text read next to a kept field's label into its contract value.

Only fields the policy keeps are extracted; restricted values never become a ``Field.value``.
An unparsable value (an impossible date, an empty name) is ``None``: unreadable, not guessed.
"""

from __future__ import annotations

import re

from pipeline.jpdates import find_dates
from pipeline.names import normalize_kana, normalize_name, normalize_text

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f々〆ヵヶ]")
_KANA = re.compile(r"[\u30a0-\u30ff\uff66-\uff9f]")


def extract_value(field: str, kind: str, text: str) -> str | None:
    """Normalised value of a kept field, or None when it cannot be read with certainty."""
    text = text.strip()
    if not text:
        return None
    if kind == "date":
        spans = find_dates(text)
        return spans[0].value.isoformat() if spans and spans[0].value else None
    if kind == "name":
        value = normalize_name(text)
        return value if _JAPANESE.search(value) else None
    if kind == "kana":
        value = normalize_kana(text)
        return value if _KANA.search(value) else None
    if field == "holder_type":
        return holder_type(text)
    if kind in ("text", "choice"):
        value = normalize_text(text)
        return value or None
    return None  # digits / codes are never extracted as values


def holder_type(text: str) -> str | None:
    """本人 or 家族 from the printed wording (本人（被保険者）, 家族（被扶養者）, 被扶養者 …)."""
    t = normalize_text(text)
    if "家族" in t or "被扶養者" in t:
        return "家族"
    if "本人" in t or "被保険者" in t:
        return "本人"
    return None
