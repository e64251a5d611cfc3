"""``python -m tests.bench --out DIR``: accuracy and speed of ``check`` on a generated corpus.

Writes DIR/report.md and DIR/report.json. Speed is measured in this one process, pages one
after another, Tesseract on one thread; the naive baseline (whole-page Tesseract ``jpn`` at
300 dpi through its command line) runs on a sample of the same pages in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from pipeline.policy import load_policy
from pipeline.report import page_record
from pipeline.run import Context, check_document
from tests.bench import baseline
from tests.bench.report import write_report
from tests.bench.score import BORN_DIGITAL, RASTER, Tally, capture_group, median


def corpus_files(corpus: Path) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for truth_path in sorted(corpus.glob("*.truth.json")):
        truth = json.loads(truth_path.read_text("utf-8"))
        out.append((corpus / truth["file"], truth))
    return out


def ensure_corpus(corpus: Path, seed: int, count: int) -> None:
    if len(list(corpus.glob("*.truth.json"))) >= count:
        return
    from fixtures.generate import generate

    corpus.mkdir(parents=True, exist_ok=True)
    generate(seed, count, corpus)


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = args.corpus or args.out / "corpus"
    ensure_corpus(corpus, args.seed, args.count)
    files = corpus_files(corpus)
    policy = load_policy(None)
    tally = Tally()
    per_page: dict[str, list[float]] = {BORN_DIGITAL: [], RASTER: []}
    stages: dict[str, list[float]] = {}
    ours_by_file: dict[str, float] = {}
    t_all = time.perf_counter()
    for i, (path, truth) in enumerate(files):
        ctx = Context(policy=policy, as_of=date.fromisoformat(truth["as_of"]))
        start = time.perf_counter()
        doc = check_document(path, ctx)
        elapsed = time.perf_counter() - start
        if doc.error:
            records = [{"source": str(path), "error": {"code": doc.error.code}}]
        else:
            records = [page_record(p, policy) for p in doc.pages]
        tally.add(truth, records)
        n_pages = max(1, len(doc.pages))
        per_page[capture_group(truth)].append(elapsed / n_pages)
        ours_by_file[path.name] = elapsed / n_pages
        for stage, secs in ctx.trace.items():
            stages.setdefault(stage, []).append(secs / n_pages)
        if (i + 1) % 25 == 0:
            print(f"bench: {i + 1}/{len(files)} files", file=sys.stderr)
    wall = time.perf_counter() - t_all
    sample = [p for p, t in files if capture_group(t) == RASTER][: args.baseline_pages]
    base = baseline.measure(sample)
    ours_same = [ours_by_file[p.name] for p in sample if p.name in ours_by_file]
    recall, precision, support, predicted = tally.restricted_visible()
    return {
        "corpus": {"seed": args.seed, "files": len(files), "pages": tally.pages},
        "wall_seconds": wall,
        "type_accuracy": tally.type_accuracy(),
        "confusion": tally.confusion_rows(),
        "restricted_visible": {"recall": recall, "precision": precision,
                               "support": support, "predicted": predicted},
        "restricted_misses": tally.misses,
        "wrong_verdicts": tally.wrong_verdicts,
        "fields": tally.field_table(),
        "value_match": {g: dict(zip(("rate", "n"), tally.value_match(g), strict=True))
                        for g in (RASTER, BORN_DIGITAL)},
        "value_match_by_field": {k: dict(zip(("rate", "n"), tally.value_match(k), strict=True))
                                 for k in sorted(tally.values) if ":" in k},
        "verdict_accuracy": tally.verdict_accuracy(),
        "verdict_confusion": {k: dict(v) for k, v in tally.verdict_confusion.items()},
        "errors": dict(tally.errors),
        "time_per_page": {g: {"median": median(v), "n": len(v)} for g, v in per_page.items()},
        "stages": {s: median(v) for s, v in sorted(stages.items())},
        "baseline": {"pages": len(base), "median": median(base),
                     "ours_median_same_pages": median(ours_same),
                     "speedup": (median(base) / median(ours_same)) if ours_same and base else None},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--baseline-pages", type=int, default=15)
    ap.add_argument("--corpus", type=Path, default=None,
                    help="an existing generated corpus (default: generate into OUT/corpus)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args)
    (args.out / "report.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    write_report(result, args.out / "report.md")
    print((args.out / "report.md").read_text("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
