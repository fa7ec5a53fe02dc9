"""Offline verifier for a journal export (``GET /v1/journal/export``, JSON Lines).

    python -m ledgerlou.verify export.jsonl [--jobs N] [--closing PERIOD HASH --chain-length N [--previous HASH]]

Prints the verification result as one JSON object and exits 0 if the chain (and, with ``--closing``,
the period closing) verifies, 1 if not, 2 on a usage error or an unreadable file. The file is read as
a stream in one pass; ``-`` reads standard input. A large file is verified on all CPUs at once (see
``chain.verify_file``; ``--jobs 1`` for one process), with the same result. Stdlib only, so an
auditor needs nothing but Python 3.11 and this package; the definitions are in
``ledgerlou.domain.chain``'s module docstring.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from ledgerlou.domain.chain import check_closing, verify_file, verify_jsonl

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ledgerlou.verify",
        description="Verify the hash chain of a LedgerLou journal export (JSON Lines) offline.",
        epilog="Exit status: 0 verified, 1 not verified, 2 usage error.",
    )
    parser.add_argument("export", help="path of the export file, or - for standard input")
    parser.add_argument("--closing", nargs=2, metavar=("PERIOD", "HASH"),
                        help="also recompute the closing hash of PERIOD (YYYY-MM) and compare it with HASH")
    parser.add_argument("--chain-length", type=int, metavar="N",
                        help="journal_number of the last entry at closing time (required with --closing)")
    parser.add_argument("--previous", metavar="HASH", default=None,
                        help="closing hash of the previously closed period (omit for the first closing)")
    parser.add_argument("--jobs", type=int, metavar="N", default=None,
                        help="processes to verify a large file with (default: the CPUs available, at most 8)")
    return parser


def _usage_checks(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    # parser.error prints the usage and exits with status 2.
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.closing is None:
        if args.chain_length is not None or args.previous is not None:
            parser.error("--chain-length and --previous only go with --closing")
        return
    period, expected = args.closing
    if not _PERIOD.fullmatch(period):
        parser.error(f"--closing PERIOD must be YYYY-MM, got {period!r}")
    if not _HEX64.fullmatch(expected):
        parser.error("--closing HASH must be 64 lowercase hex digits")
    if args.chain_length is None:
        parser.error("--closing requires --chain-length")
    if args.chain_length < 0:
        parser.error("--chain-length must be >= 0")
    if args.previous is not None and not _HEX64.fullmatch(args.previous):
        parser.error("--previous must be 64 lowercase hex digits")


def _run(stream: BinaryIO, args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    if args.closing is None:
        result = verify_jsonl(stream)
        return result.to_dict(), result.verified
    period, expected = args.closing
    result, closing = check_closing(stream, period, expected, args.chain_length, args.previous)
    report = result.to_dict()
    report["closing"] = closing.to_dict()
    return report, result.verified and closing.ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _usage_checks(parser, args)
    try:
        if args.export == "-":
            report, ok = _run(sys.stdin.buffer, args)
        elif args.closing is None:
            result = verify_file(args.export, jobs=args.jobs)
            report, ok = result.to_dict(), result.verified
        else:
            # Binary and line-buffered by iteration: the file is never loaded as a whole.
            with open(args.export, "rb") as stream:
                report, ok = _run(stream, args)
    except OSError as exc:
        print(f"{parser.prog}: cannot read {args.export}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(report, ensure_ascii=False))
    return EXIT_VERIFIED if ok else EXIT_NOT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
