"""The verdict: findings on a page under a policy and an as-of date (CONTRACT.md, "Default
policy" and "Other verdict rules").

``judge`` adds its findings to those earlier stages left on the page (``masked_by_fallback``,
``hidden_text`` …), drops exact duplicates, orders them stably and sets the verdict to the worst
severity among them: reject > review > accept. A page with no findings is accepted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Final

from pipeline.jpdates import parse_date
from pipeline.messages import reason_message
from pipeline.model import Field, Page, Reason
from pipeline.policy import Policy
from pipeline.vocab import FIELD_NAMES

ACCEPT, REVIEW, REJECT = "accept", "review", "reject"
_RANK: Final[dict[str, int]] = {ACCEPT: 0, REVIEW: 1, REJECT: 2}

# Severity of each reason code. ``accept`` = informational (does not change the verdict).
# Codes not listed are ``review``: an unknown finding is never silently accepted.
SEVERITY: Final[dict[str, str]] = {
    "unknown_document": REJECT,
    "legacy_card_expired": REJECT,
    "expired": REJECT,
    "exposed_restricted": REJECT,
    "required_masked": REJECT,
    "file_leak": REJECT,
    "unapplied_redaction": REJECT,
    "thumbnail_leak": REJECT,
    "trailing_data": REJECT,
    "required_unreadable": REVIEW,
    "exposed_unneeded": REVIEW,
    "low_confidence": REVIEW,
    "not_on_roster": REVIEW,
    "insurance_kind_mismatch": REVIEW,
    "dependant_document": REVIEW,
    "normalization_failed": REVIEW,
    "orientation_uncertain": REVIEW,
    "restricted_unlocated": REVIEW,
    "output_not_written": REVIEW,
    "redaction_unverified": REVIEW,
    "masked_by_fallback": ACCEPT,
}
# Leaks tied to a field take that field's severity under the policy (restricted → reject,
# unneeded → review, kept → informational); without a field they are rejects.
FIELD_LEAK_CODES: Final = frozenset({"hidden_text", "ocr_text_layer"})
_LEAK_SEVERITY: Final[dict[str, str]] = {
    "must_mask": REJECT,
    "should_mask": REVIEW,
    "keep": ACCEPT,
}

# Stable order of reasons: document-level first, then by severity, then informational.
CODE_ORDER: Final[tuple[str, ...]] = (
    "unknown_document", "legacy_card_expired", "expired",
    "exposed_restricted", "hidden_text", "ocr_text_layer", "unapplied_redaction", "file_leak",
    "thumbnail_leak", "trailing_data", "required_masked",
    "required_unreadable", "restricted_unlocated", "exposed_unneeded", "low_confidence",
    "dependant_document",
    "insurance_kind_mismatch", "not_on_roster", "normalization_failed", "orientation_uncertain",
    "redaction_unverified", "output_not_written", "masked_by_fallback",
)  # fmt: skip

def severity(reason: Reason, policy: Policy) -> str:
    """``accept`` (informational), ``review`` or ``reject`` for one reason."""
    if reason.code in FIELD_LEAK_CODES:
        return REJECT if reason.field is None else _LEAK_SEVERITY[policy.action(reason.field)]
    return SEVERITY.get(reason.code, REVIEW)


def judge(page: Page, policy: Policy, as_of: date) -> Page:
    """Return ``page`` with its reasons (earlier ones kept) and verdict set."""
    # Earlier stages' findings are kept; one without a message gets the catalogue's.
    found = [r if r.message else _reason(r.code, r.field) for r in page.reasons]
    found += _document_reasons(page, policy, as_of)
    found += _field_reasons(page, policy)
    if page.confidence < policy.confidence_threshold:
        found.append(_reason("low_confidence"))
    reasons = _ordered(found)
    worst = max((_RANK[severity(r, policy)] for r in reasons), default=0)
    verdict = next(v for v, rank in _RANK.items() if rank == worst)
    return replace(page, reasons=reasons, verdict=verdict)


def _reason(code: str, field: str | None = None) -> Reason:
    return Reason(code=code, message=reason_message(code, field), field=field)


def _readable_date(f: Field | None) -> date | None:
    if f is None or f.state != "visible" or f.value is None:
        return None
    return parse_date(f.value)


def _document_reasons(page: Page, policy: Policy, as_of: date) -> list[Reason]:
    if page.doc_type == "unknown":
        return [_reason("unknown_document")]
    out: list[Reason] = []
    valid_until = _readable_date(page.fields.get("valid_until"))
    if page.doc_type == "hokensho_card":
        own_expiry_passed = valid_until is not None and valid_until < as_of
        if own_expiry_passed or as_of > policy.legacy_card_last_day:
            # Name the card's own expiry when it is readable: it is part of the finding.
            field = "valid_until" if valid_until is not None else None
            out.append(_reason("legacy_card_expired", field))
        return out
    if valid_until is not None and valid_until < as_of:
        out.append(_reason("expired", "valid_until"))
    return out


def _field_reasons(page: Page, policy: Policy) -> list[Reason]:
    out: list[Reason] = []
    if page.doc_type != "unknown":
        for name in sorted(policy.required, key=_field_key):
            f = page.fields.get(name)
            if f is not None and f.state == "masked":
                out.append(_reason("required_masked", name))
            elif f is None or f.state != "visible" or f.value is None:
                out.append(_reason("required_unreadable", name))
    for name in sorted(page.fields, key=_field_key):
        state = page.fields[name].state
        exposed = state not in ("masked", "absent")  # an unexpected state fails closed
        action = policy.action(name)
        if exposed and action == "must_mask":
            out.append(_reason("exposed_restricted", name))
        elif exposed and action == "should_mask":
            out.append(_reason("exposed_unneeded", name))
    return out


def _field_key(name: str | None) -> tuple[int, str]:
    if name is None:
        return (-1, "")
    return (FIELD_NAMES.index(name) if name in FIELD_NAMES else len(FIELD_NAMES), name)


def _ordered(reasons: list[Reason]) -> tuple[Reason, ...]:
    unique: dict[tuple[str, str | None], Reason] = {}
    for r in reasons:
        unique.setdefault((r.code, r.field), r)

    def key(r: Reason) -> tuple[int, str, tuple[int, str]]:
        rank = CODE_ORDER.index(r.code) if r.code in CODE_ORDER else len(CODE_ORDER)
        return (rank, r.code, _field_key(r.field))

    return tuple(sorted(unique.values(), key=key))
