"""Command line: ``hokenmask check PATH... [--json] [--as-of DATE] [--policy NAME|FILE]``.

stdout carries only machine output (JSON Lines) or the Japanese table; logs go to stderr.
Exit status: 0 all accepted, 1 any reject/review, 2 any unreadable input, 64 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from pipeline.errors import HokenmaskError, UsageError
from pipeline.policy import load_policy
from pipeline.report import error_record, format_table, page_record, to_json_line
from pipeline.run import Context, check_document

EXIT_OK, EXIT_FLAGGED, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2, 64
log = logging.getLogger("hokenmask")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 by default; the contract says 64
        self.print_usage(sys.stderr)
        print(f"hokenmask: 引数が正しくありません: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hokenmask", description="健康保険の資格確認書類の黒塗り確認")
    sub = p.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="書類の種類・黒塗り・有効性を確認する")
    check.add_argument("paths", nargs="+", type=Path)
    check.add_argument("--json", action="store_true", help="JSON Lines で出力する")
    check.add_argument("--as-of", type=_iso_date, default=None, help="判定基準日 (YYYY-MM-DD)")
    check.add_argument("--policy", default=None, help="ポリシー名または TOML ファイル")
    p.add_argument("-v", "--verbose", action="count", default=0)
    return p


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("日付は YYYY-MM-DD で指定してください") from exc


def iter_inputs(paths: Sequence[Path]) -> Iterator[Path]:
    """Files in input order; directories walked recursively in sorted order (no symlink loops)."""
    for path in paths:
        if path.is_dir():
            seen: set[tuple[int, int]] = set()
            for root, dirs, files in os.walk(path, followlinks=False):
                st = os.stat(root)
                if (st.st_dev, st.st_ino) in seen:
                    dirs[:] = []
                    continue
                seen.add((st.st_dev, st.st_ino))
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="%(levelname)s %(message)s")
    try:
        policy = load_policy(args.policy)
    except HokenmaskError as exc:
        print(f"hokenmask: {exc.message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else exc.exit_status
    ctx = Context(policy=policy, as_of=args.as_of or date.today())
    status = EXIT_OK
    records = []
    for path in iter_inputs(args.paths):
        doc = check_document(path, ctx)
        if doc.error:
            rows = [error_record(path, doc.error.code, doc.error.message)]
            status = max(status, EXIT_UNREADABLE)
        else:
            rows = [page_record(page, policy) for page in doc.pages]
            if any(r["verdict"] != "accept" for r in rows):
                status = max(status, EXIT_FLAGGED)
        for row in rows:
            if args.json:
                sys.stdout.write(to_json_line(row) + "\n")
                sys.stdout.flush()
            records.append(row)
    if not args.json:
        sys.stdout.write(format_table(records) + "\n")
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
