"""Command line: ``hokenmask check PATH... [--json] [--as-of DATE] [--policy NAME|FILE]``.

stdout carries only machine output (JSON Lines, UTF-8, one line per page, flushed as each file
is done) or the Japanese table; logs go to stderr. Exit status: 0 all accepted, 1 any
reject/review, 2 any unreadable input (the others are still reported), 64 bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.errors import HokenmaskError, InternalError, UsageError
from pipeline.messages import error_message
from pipeline.policy import Policy, load_policy
from pipeline.report import error_record, format_table, page_record, to_json_line
from pipeline.run import Context, check_document

EXIT_OK, EXIT_FLAGGED, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2, 64
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
log = logging.getLogger("hokenmask")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOG_FORMAT = "%(levelname)s %(message)s"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 by default; the contract says 64
        self.print_usage(sys.stderr)
        print(f"hokenmask: 引数が正しくありません: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hokenmask", description="健康保険の資格確認書類の黒塗り確認")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="ログを詳しくする (-v: INFO, -vv: DEBUG; 標準エラー出力)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = sub.add_parser("check", help="書類の種類・黒塗り・有効性を確認する")
    check.add_argument("paths", nargs="+", type=Path)
    check.add_argument("--json", action="store_true", help="JSON Lines で出力する")
    check.add_argument("--as-of", type=_iso_date, default=None, help="判定基準日 (YYYY-MM-DD)")
    check.add_argument("--policy", default=None, help="ポリシー名または TOML ファイル")
    return p


def _iso_date(text: str) -> date:
    """Exactly ``YYYY-MM-DD`` (Python 3.11's ``fromisoformat`` also takes 20261203, 2026-W49…)."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(error_message("bad_as_of")) from None


def iter_inputs(paths: Sequence[Path]) -> Iterator[Path]:
    """Files in input order; a directory is walked recursively in sorted order.

    Within a directory, files and subdirectories are taken together in name order (so the
    output is sorted by path, component by component). Symlinked directories are followed;
    a directory reached twice (a symlink loop) is walked once. A directory that cannot be
    listed is yielded itself, so that ingest reports why it cannot be read.
    """
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def _walk(top: Path) -> Iterator[Path]:
    seen: set[tuple[int, int]] = set()
    pending: list[Iterator[Path]] = [iter((top,))]
    while pending:
        path = next(pending[-1], None)
        if path is None:
            pending.pop()
            continue
        if not path.is_dir():  # False for files, broken links and link loops: ingest says why
            yield path
            continue
        try:
            st = path.stat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(path) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError:
            yield path
            continue
        pending.append(iter([path / name for name in names]))


def _display(path: Path) -> str:
    """The path as text that survives UTF-8 output: undecodable bytes (a Shift_JIS file name
    from a Windows archive) become ``\\xNN`` escapes instead of crashing the run."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _file_records(path: Path, ctx: Context, policy: Policy) -> tuple[list[dict[str, Any]], int]:
    """The records of one input and its exit status; never raises for a bad input."""
    source = _display(path)
    try:
        doc = check_document(path, ctx)
        if doc.error:
            return [error_record(source, doc.error.code, doc.error.message)], EXIT_UNREADABLE
        rows = [page_record(page, policy, source=source) for page in doc.pages]
        if not rows:
            raise InternalError()
        for row in rows:
            to_json_line(row)  # a record that cannot be serialised is an internal error
    except HokenmaskError as exc:
        return [error_record(source, exc.code, exc.message)], EXIT_UNREADABLE
    except Exception as exc:  # MemoryError and RecursionError included
        # Only the type: an exception's text may quote what a library read from the document.
        log.error("内部エラー: %s (%s)", source, type(exc).__name__)
        err = InternalError()
        return [error_record(source, err.code, err.message)], EXIT_UNREADABLE
    flagged = any(row.get("verdict") != "accept" for row in rows)
    return rows, EXIT_FLAGGED if flagged else EXIT_OK


def _setup_streams(json_output: bool) -> None:
    """JSON Lines are UTF-8 whatever the locale; text never crashes on an odd console."""
    out = {"encoding": "utf-8", "errors": "strict"} if json_output else {"errors": "replace"}
    for stream, options in ((sys.stdout, out), (sys.stderr, {"errors": "backslashreplace"})):
        if isinstance(stream, io.TextIOWrapper):
            # ValueError: already written to; UnsupportedOperation: a test double.
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(**options)


def _setup_logging(verbose: int) -> None:
    """Our logger at the requested level; third-party loggers stay at WARNING (a decoder's
    DEBUG output can echo metadata read from a document)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format=_LOG_FORMAT)
    log.setLevel(logging.WARNING - 10 * min(verbose, 2))


def _run(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy)
    except HokenmaskError as exc:
        print(f"hokenmask: {exc.message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else exc.exit_status
    ctx = Context(policy=policy, as_of=args.as_of or date.today())
    status = EXIT_OK
    records: list[dict[str, Any]] = []
    seen_any = False
    for path in iter_inputs(args.paths):
        seen_any = True
        rows, file_status = _file_records(path, ctx, policy)
        status = max(status, file_status)
        if args.json:
            sys.stdout.write("".join(to_json_line(row) + "\n" for row in rows))
            sys.stdout.flush()
        else:
            records.extend(rows)
    if not seen_any:  # an empty folder is not "every document accepted"
        print(f"hokenmask: {error_message('no_inputs')}", file=sys.stderr)
        return EXIT_USAGE
    if not args.json:
        sys.stdout.write(format_table(records) + "\n")
        sys.stdout.flush()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_streams(args.json)
    _setup_logging(args.verbose)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("hokenmask: 中断しました", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, without a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_FLAGGED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
