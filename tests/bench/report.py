"""Markdown rendering of a bench result (counts and rates only, never values)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.vocab import DOC_TYPES


def _pct(x: float | None) -> str:
    return "–" if x is None or x != x else f"{100 * x:.1f}%"


def write_report(r: dict[str, Any], path: Path) -> None:
    rv = r["restricted_visible"]
    b = r["baseline"]
    lines = [
        "# hokenmask bench",
        "",
        f"Corpus: seed {r['corpus']['seed']}, {r['corpus']['files']} files, "
        f"{r['corpus']['pages']} pages. Wall time {r['wall_seconds']:.0f} s.",
        "",
        "## Headline (targets from issue 3)",
        "",
        "| metric | value | target |",
        "| --- | --- | --- |",
        f"| doc-type accuracy | {_pct(r['type_accuracy'])} | ≥ 99% |",
        f"| recall of visible restricted fields | {_pct(rv['recall'])} (n={rv['support']}) "
        "| ≥ 99.5% |",
        f"| precision of visible restricted fields | {_pct(rv['precision'])} "
        f"(n={rv['predicted']}) | ≥ 97% |",
        f"| kept-value exact match, scans/photos | {_pct(r['value_match']['scan_photo']['rate'])}"
        f" (n={r['value_match']['scan_photo']['n']}) | ≥ 95% |",
        f"| kept-value exact match, born-digital | "
        f"{_pct(r['value_match']['born_digital']['rate'])}"
        f" (n={r['value_match']['born_digital']['n']}) | 100% |",
        f"| verdict accuracy | {_pct(r['verdict_accuracy'])} | ≥ 97% |",
        f"| median s/page, scans/photos | {r['time_per_page']['scan_photo']['median']:.3f} "
        "| ≤ 0.5 s |",
        f"| median s/page, born-digital | {r['time_per_page']['born_digital']['median']:.3f} "
        "| ≤ 0.05 s |",
        f"| baseline (full-page jpn, 300 dpi) median s/page | {b['median']:.3f} "
        f"(n={b['pages']}) | |",
        f"| ours on the same pages | {b['ours_median_same_pages']:.3f} | |",
        f"| speed-up over baseline | {b['speedup']:.1f}× | ≥ 4× |" if b["speedup"]
        else "| speed-up over baseline | – | ≥ 4× |",
        "",
        "## Doc-type confusion (rows: truth, columns: predicted)",
        "",
        "| truth | " + " | ".join([*DOC_TYPES, "error"]) + " |",
        "| --- " * (len(DOC_TYPES) + 2) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in r["confusion"]]
    lines += ["", "## Mask state per field", "",
              "| field | visible recall | visible precision | n visible | masked recall | "
              "masked precision | n masked |", "| --- " * 7 + "|"]
    for f in r["fields"]:
        lines.append(f"| {f['field']} | {_pct(f['visible_recall'])} | "
                     f"{_pct(f['visible_precision'])} | {f['visible_support']} | "
                     f"{_pct(f['masked_recall'])} | {_pct(f['masked_precision'])} | "
                     f"{f['masked_support']} |")
    lines += ["", "## Kept-value exact match by field", "", "| group:field | rate | n |",
              "| --- | --- | --- |"]
    lines += [f"| {k} | {_pct(v['rate'])} | {v['n']} |" for k, v in
              r["value_match_by_field"].items()]
    lines += ["", "## Verdicts (rows: expected, columns: got)", ""]
    lines += [f"- {k}: {v}" for k, v in r["verdict_confusion"].items()]
    lines += ["", "## Median seconds per page by stage", ""]
    lines += [f"- {k}: {v:.3f}" for k, v in r["stages"].items()]
    lines += ["", f"Input errors: {r['errors'] or 'none'}", "",
              f"Visible restricted fields reported hidden: {len(r['restricted_misses'])} "
              "(listed in report.json by file and field, without values)", ""]
    path.write_text("\n".join(lines), "utf-8")
