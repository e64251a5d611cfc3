"""Score ``check`` records against the generator's truth files.

Pure functions over plain dicts, shared by the bench and the corpus tests. Nothing here ever
prints a truth value: reports carry counts and rates only.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.vocab import DOC_TYPES, RESTRICTED_FIELDS

KEEP = frozenset({"name", "name_kana", "insurer_name", "employer_name", "holder_type",
                  "qualified_on", "issued_on", "valid_until"})
BORN_DIGITAL = "born_digital"
RASTER = "scan_photo"


def capture_group(truth: dict[str, Any]) -> str:
    """Born-digital PDFs (a live text layer, no OCR) versus everything that needs OCR."""
    digital_pdf = truth["container"] == "pdf" and truth["capture"] in ("digital", "multipage_pdf")
    return BORN_DIGITAL if digital_pdf else RASTER


@dataclass
class Tally:
    """Running counts over a corpus."""

    docs: int = 0
    pages: int = 0
    errors: Counter = field(default_factory=Counter)
    confusion: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    states: dict[str, dict[str, Counter]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    values: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    verdicts: Counter = field(default_factory=Counter)
    verdict_confusion: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    misses: list[dict[str, Any]] = field(default_factory=list)  # visible restricted called hidden
    wrong_verdicts: list[dict[str, Any]] = field(default_factory=list)  # file, page, want, got

    def add(self, truth: dict[str, Any], records: list[dict[str, Any]]) -> None:
        self.docs += 1
        group = capture_group(truth)
        by_page = {r.get("page"): r for r in records if "error" not in r}
        for r in records:
            if "error" in r:
                self.errors[r["error"]["code"]] += 1
        for tp in truth["pages"]:
            self.pages += 1
            rec = by_page.get(tp["page"], {})
            pred_type = rec.get("doc_type", "error")
            self.confusion[tp["doc_type"]][pred_type] += 1
            expected = tp["expected"]["verdict"]
            got = rec.get("verdict", "error")
            self.verdicts["ok" if got == expected else "wrong"] += 1
            if got != expected:
                self.wrong_verdicts.append({"file": truth["file"], "page": tp["page"],
                                            "expected": expected, "got": got})
            self.verdict_confusion[expected][got] += 1
            if tp["doc_type"] == "unknown" or pred_type != tp["doc_type"]:
                continue
            self._fields(truth, tp, rec, group)

    def _fields(self, truth: dict[str, Any], tp: dict[str, Any], rec: dict[str, Any],
                group: str) -> None:
        pred_fields = rec.get("fields", {})
        for name, tf in tp["fields"].items():
            pred = pred_fields.get(name, {})
            pstate = pred.get("state", "absent")
            self.states[name][tf["state"]][pstate] += 1
            if name in RESTRICTED_FIELDS and tf["state"] == "visible" and pstate != "visible":
                self.misses.append({"file": truth["file"], "page": tp["page"], "field": name,
                                    "predicted": pstate})
            if name in KEEP and tf["state"] == "visible" and tf.get("value"):
                ok = pred.get("value") == tf["value"]
                self.values[group]["match" if ok else "miss"] += 1
                self.values[f"{group}:{name}"]["match" if ok else "miss"] += 1

    # --- summaries -------------------------------------------------------------------------
    def type_accuracy(self) -> float:
        total = sum(sum(c.values()) for c in self.confusion.values())
        right = sum(self.confusion[t][t] for t in self.confusion)
        return right / total if total else 0.0

    def restricted_visible(self) -> tuple[float, float, int, int]:
        """(recall, precision, support, predicted) of ``visible`` over restricted fields."""
        tp = fn = fp = 0
        for name in RESTRICTED_FIELDS:
            for truth_state, preds in self.states.get(name, {}).items():
                for pred_state, n in preds.items():
                    if truth_state == "visible" and pred_state == "visible":
                        tp += n
                    elif truth_state == "visible":
                        fn += n
                    elif pred_state == "visible":
                        fp += n
        recall = tp / (tp + fn) if tp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        return recall, precision, tp + fn, tp + fp

    def value_match(self, key: str) -> tuple[float, int]:
        c = self.values.get(key, Counter())
        n = c["match"] + c["miss"]
        return (c["match"] / n if n else float("nan")), n

    def verdict_accuracy(self) -> float:
        n = self.verdicts["ok"] + self.verdicts["wrong"]
        return self.verdicts["ok"] / n if n else 0.0

    def field_table(self) -> list[dict[str, Any]]:
        """Per field: precision/recall of ``visible`` and of ``masked``."""
        rows = []
        for name in sorted(self.states):
            row: dict[str, Any] = {"field": name}
            for state in ("visible", "masked"):
                tp = self.states[name].get(state, Counter())[state]
                support = sum(self.states[name].get(state, Counter()).values())
                predicted = sum(p[state] for p in self.states[name].values())
                row[f"{state}_recall"] = tp / support if support else None
                row[f"{state}_precision"] = tp / predicted if predicted else None
                row[f"{state}_support"] = support
            rows.append(row)
        return rows

    def confusion_rows(self) -> list[list[Any]]:
        cols = [*DOC_TYPES, "error"]
        return [[t, *[self.confusion[t][c] for c in cols]] for t in DOC_TYPES]


def median(values: Iterable[float]) -> float:
    vs = list(values)
    return statistics.median(vs) if vs else float("nan")
