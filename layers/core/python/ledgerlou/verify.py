"""Offline verifier for a journal export (``GET /v1/journal/export``, JSON Lines).

    python -m ledgerlou.verify export.jsonl [--jobs N] [--closing PERIOD HASH --chain-length N [--previous HASH]]

Prints the verification result as one JSON object and exits 0 if the chain (and, with ``--closing``,
the period closing) verifies, 1 if not, 2 on a usage error or an unreadable file. The file is read as
a stream in one pass; ``-`` reads standard input. A large file is verified on all CPUs at once (see
``verify_file``; ``--jobs 1`` for one process), with the same result. Stdlib only, so an
auditor needs nothing but Python 3.11 and this package; the definitions are in
module docstrings of ``ledgerlou.domain.chain.canonical`` and ``.closing``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from typing import Any, BinaryIO, Final

from ledgerlou.domain.chain.closing import check_closing
from ledgerlou.domain.chain.verify import _EXPORT_LINE, ChainVerifier, VerifyResult, verify_jsonl

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2


# An export file of at least this size is split across processes by verify_file; below it forking and
# joining cost more than they save (measured on 2 cores, one process vs two: 1 MiB 10 vs 17 ms, 2 MiB
# 19 vs 18 ms, 4 MiB 35 vs 31 ms, 16 MiB 95 vs 80 ms).
PARALLEL_MIN_BYTES: Final = 4 << 20


class _SegmentReader(io.BufferedIOBase):
    """``length`` bytes of an open binary file from its current position, as a binary stream."""

    def __init__(self, raw: io.BufferedIOBase, length: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._raw.read(size)
        self._left -= len(data)
        return data


def _segment_bounds(path: str, size: int, parts: int) -> list[int]:
    """Offsets cutting the file into ``parts`` runs of whole lines (each cut just after a b"\n")."""
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, parts):
            f.seek(max(size * i // parts - 1, bounds[-1]))
            f.readline()  # to the end of the line the cut falls into
            cut = f.tell()
            if cut >= size:
                break
            if cut > bounds[-1]:
                bounds.append(cut)
    bounds.append(size)
    return bounds


def _verify_segment(path: str, start: int, end: int) -> dict[str, Any]:
    """Verify the lines in [start, end) as a continuation of whatever chain their first line claims.

    The first line's own journal_number and prev_hash are taken as the starting point, so only the
    links *inside* the segment are checked here; verify_file checks the links between segments.
    ``ok`` False means "not a clean run of fast-path lines": verify_file then verifies sequentially.
    """
    with open(path, "rb") as f:
        f.seek(start)
        first = f.readline()
        m = _EXPORT_LINE.fullmatch(first)
        if m is None or f.tell() > end:
            return {"ok": False}
        # The hash slot matches any 64 bytes; non-ASCII must end up "not clean", not an exception.
        number, prev = int(m.group(5)), m.group(6).decode("ascii", "replace")
        if not _HEX64.fullmatch(prev):
            return {"ok": False}
        verifier = ChainVerifier(number, prev)
        f.seek(start)
        verifier.feed_lines(_SegmentReader(f, end - start))
    if verifier.broken:
        return {"ok": False}
    return {"ok": True, "first_number": number, "first_prev": prev, "next_number": verifier.expected_number,
            "head": verifier.head_hash, "entries": verifier.result().entries}


def _fork_segment(path: str, start: int, end: int) -> tuple[int, int]:
    """Verify a segment in a forked child; returns (pid, read end of the pipe carrying its JSON result)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: verify, write one small JSON object, and never return into the caller
        try:
            os.close(read_fd)
            payload = json.dumps(_verify_segment(path, start, end)).encode("ascii")
            while payload:
                payload = payload[os.write(write_fd, payload):]
        finally:
            os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, read_fd: int) -> dict[str, Any]:
    chunks = []
    try:
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    try:
        result = json.loads(b"".join(chunks))
    except ValueError:  # the child died before writing (killed, out of memory): verify sequentially
        return {"ok": False}
    return result if isinstance(result, dict) else {"ok": False}


def default_jobs() -> int:
    """The CPUs this process may run on (at most 8): the default parallelism of verify_file."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def verify_file(path: str | os.PathLike[str], *, jobs: int | None = None,
                min_parallel_bytes: int = PARALLEL_MIN_BYTES) -> VerifyResult:
    """Verify an export file; the same result as ``verify_jsonl(open(path, "rb"))``, sooner on several CPUs.

    Every line carries its own ``prev_hash``, so the links inside any run of lines can be checked
    without the lines before it. A file of at least ``min_parallel_bytes`` is cut into ``jobs``
    (default: ``default_jobs()``) runs of whole lines; each run but the first is verified in a forked
    process while this process verifies the first. Then the runs are joined: each must start with the
    journal_number and prev_hash the run before it ended with, which are exactly the checks a
    sequential pass makes at that line. Any run that is not clean (a break, a blank or non-JCS first
    line, a child that died) makes the whole file be verified again sequentially, so every report,
    first break and count is the sequential pass's own. Without ``os.fork`` (Windows), in a process
    that runs other threads (forking those is unsafe), or below the size limit, it is the sequential pass.
    """
    path = os.fspath(path)
    jobs = default_jobs() if jobs is None else jobs
    size = os.path.getsize(path)
    parallel = (jobs > 1 and size >= max(min_parallel_bytes, 1) and hasattr(os, "fork")
                and threading.active_count() == 1)
    bounds = _segment_bounds(path, size, jobs) if parallel else [0, size]
    if len(bounds) > 2:
        children = [_fork_segment(path, start, end) for start, end in itertools.pairwise(bounds[1:])]
        try:
            with open(path, "rb") as f:
                verifier = ChainVerifier()
                verifier.feed_lines(_SegmentReader(f, bounds[1]))
        finally:
            segments = [_collect(pid, fd) for pid, fd in children]
        expected, head, entries = verifier.expected_number, verifier.head_hash, verifier.result().entries
        joined = not verifier.broken
        for segment in segments:
            if not (joined and segment.get("ok") and segment.get("first_number") == expected
                    and segment.get("first_prev") == head):
                joined = False
                break
            expected, head, entries = segment["next_number"], segment["head"], entries + segment["entries"]
        if joined:
            return VerifyResult(verified=True, entries=entries, head_hash=head)
    with open(path, "rb") as f:
        return verify_jsonl(f)


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
