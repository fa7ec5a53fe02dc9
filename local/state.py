"""The local books on disk: a write-ahead log of every change, a snapshot now and then, documents as files.

moto keeps everything in this process's memory and has no persistence of its own. Saving it by scanning
the table and reading every object costs time in proportion to the books, not to what changed (a year
of a firm's books would be rewritten every few seconds), and a kill lost the writes since the last save.

So the local runtime persists what changes, where it changes: moto's DynamoDB backend and its S3 PUT are
wrapped (``install``), and every write that succeeded is appended to the log, as the *item after the
write* (an after-image: replay never evaluates a condition or an update expression again, it only puts
items), before moto answers the request and so before our API answers its client. The append holds the
lock that serialises moto's item writes (``local.moto_fidelity``), so the log's order is the order in
which the writes were applied. Each append is one ``write(2)`` of whole lines: once it returns, the
bytes are in the kernel, and a ``kill -9`` of the process loses nothing. There is no ``fsync`` per write
by default: that would only add protection against a crash of the whole machine (power loss), costs a
disk flush per write, and this is a developer's runtime; ``LEDGERLOU_STATE_FSYNC=1`` turns it on.
Snapshots are always fsynced before they replace the log they fold in (else a power loss right after
a compaction could lose the folded log).

Layout of the state directory::

    wal-00000007.jsonl       the log being written: one JSON array of operations per line
    snapshot-00000006.jsonl  the books as of the end of wal-00000006 (a header line, one op per line,
                             a trailer line counting them)
    objects/ab/abcdef…       document bodies by SHA-256, written once (documents are immutable)

Start-up loads the newest snapshot and replays the later logs into moto's in-process backend directly
(no HTTP, no conditions, no stream records), then starts a new log; a compaction (a child process, so
that it never competes with requests for this interpreter's GIL) folds closed logs into the next
snapshot once they pass ``LEDGERLOU_STATE_COMPACT_BYTES``.

Of SQS only the work queues the runtime names are kept (the statement import queue): a message sent and
not yet deleted by its worker is sent again on start (at-least-once delivery, as SQS does after a
crash), else an import accepted with 202 just before a stop would stay "queued" for ever. Receive
counts, visibility and the dead-letter queues are not kept.

A ``state.json.gz`` of the earlier format (the whole books, rewritten every 2 s) is migrated into a
snapshot once, on the first start, and kept as ``state.json.gz.migrated``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

FORMAT = 2
LEGACY_FILE = "state.json.gz"
DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024

Op = dict[str, Any]


def _json_default(obj: Any) -> Any:
    # moto keeps binary attribute values (journal block payloads) as bytes; on disk they are base64, as
    # in DynamoDB's own JSON, and become bytes again on restore (_binary).
    if isinstance(obj, bytes | bytearray):
        return base64.b64encode(bytes(obj)).decode("ascii")
    raise TypeError(f"cannot log {type(obj).__name__}")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=_json_default).encode("utf-8")


def _binary(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value from disk in moto's form: binaries (B, BS, nested in M and L) as bytes."""
    (kind, inner), = value.items()
    if kind == "B" and isinstance(inner, str):
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) if isinstance(b, str) else b for b in inner]}
    if kind == "M":
        return {"M": {k: _binary(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_binary(v) for v in inner]}
    return value


_NEEDS_DECODING = frozenset(("B", "BS", "M", "L"))


def _wal(n: int) -> str:
    return f"wal-{n:08d}.jsonl"


def _snapshot(n: int) -> str:
    return f"snapshot-{n:08d}.jsonl"


def _numbers(directory: Path, prefix: str) -> list[int]:
    found = []
    for path in directory.glob(f"{prefix}-*.jsonl"):
        stem = path.name[len(prefix) + 1: -len(".jsonl")]
        if stem.isdigit():
            found.append(int(stem))
    return sorted(found)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------ reading
class CorruptState(Exception):
    """A snapshot is incomplete or unreadable: refuse to start rather than serve books with a hole."""


def read_log(path: Path, repair: bool = False) -> Iterator[list[Op]]:
    """The groups of operations in one log file, in order.

    Only the end of a log can be damaged (it is only ever appended to): a last line without its newline
    (or one that is not JSON) is a write that never returned, so no client was ever told it succeeded.
    It is dropped, and with ``repair`` cut off the file so that nothing is ever appended after it."""
    data = path.read_bytes()
    good = 0
    for line in data.split(b"\n")[:-1]:  # whatever follows the last newline is torn
        try:
            ops = json.loads(line)
        except ValueError:
            break
        good += len(line) + 1
        yield ops
    if good != len(data):
        print(f"warning: {path.name}: dropped {len(data) - good} bytes of an unfinished write", file=sys.stderr,
              flush=True)
        if repair:
            with open(path, "r+b") as fh:
                fh.truncate(good)


def read_snapshot(path: Path) -> Iterator[Op]:
    with open(path, "rb") as fh:
        header = json.loads(fh.readline() or b"{}")
        if header.get("format") != FORMAT:
            raise CorruptState(f"{path.name}: not a snapshot of format {FORMAT}")
        for count, line in enumerate(fh):
            op = json.loads(line)
            if "end" in op:
                if op["end"] != count:
                    raise CorruptState(f"{path.name}: trailer counts {op['end']} operations, found {count}")
                return
            yield op
    raise CorruptState(f"{path.name}: no trailer (an interrupted snapshot)")


class Books:
    """Folds operations into the books' final state: the last image per item, every document put in order."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Op] = {}
        self.objects: list[Op] = []
        self.messages: dict[tuple[str, str], Op] = {}  # sent and not yet deleted

    def add(self, op: Op) -> None:
        if "s3" in op:
            self.objects.append(op)
            return
        if "sqs" in op:
            if "body" in op:
                self.messages[(op["sqs"], op["id"])] = op
            else:
                self.messages.pop((op["sqs"], op["id"]), None)
            return
        key = (op["t"], json.dumps(op["k"], separators=(",", ":")))
        if "i" in op:
            self.items[key] = op
        else:
            self.items.pop(key, None)

    def ops(self) -> Iterator[Op]:
        yield from self.items.values()
        yield from self.objects
        yield from self.messages.values()

    def __len__(self) -> int:
        return len(self.items) + len(self.objects) + len(self.messages)


def load(directory: Path, through: int | None = None, repair: bool = False) -> tuple[Books, int, list[int]]:
    """The books in ``directory``: (the folded state, the snapshot it started from, the logs replayed),
    with the logs numbered up to ``through`` (all when None)."""
    books = Books()
    snapshots = _numbers(directory, "snapshot")
    base = snapshots[-1] if snapshots else 0
    if snapshots:
        for op in read_snapshot(directory / _snapshot(base)):
            books.add(op)
    logs = [n for n in _numbers(directory, "wal") if n > base and (through is None or n <= through)]
    for n in logs:
        for ops in read_log(directory / _wal(n), repair=repair):
            for op in ops:
                books.add(op)
    return books, base, logs


# ------------------------------------------------------------------------------------------ writing
def write_snapshot(directory: Path, number: int, ops: Iterable[Op]) -> int:
    """snapshot-<number>: written aside, fsynced, then renamed into place (atomic; never half a snapshot)."""
    final = directory / _snapshot(number)
    tmp = directory / f".{final.name}.{os.getpid()}.tmp"
    count = 0
    with open(tmp, "wb") as fh:
        fh.write(json.dumps({"format": FORMAT, "through": number}).encode() + b"\n")
        for op in ops:
            fh.write(_dumps(op) + b"\n")
            count += 1
        fh.write(json.dumps({"end": count}).encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(directory)
    return count


def compact(directory: Path, through: int) -> int:
    """Fold every log up to ``through`` into snapshot-<through>, then delete what it replaces.

    Runs in a child process (``python -m local.state compact DIR N``); one at a time per directory (a
    file lock), and safe to interrupt anywhere: until the new snapshot is renamed into place, the old
    snapshot and the logs are untouched; after it, the loader ignores logs it already holds."""
    with open(directory / "compact.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        snapshots = _numbers(directory, "snapshot")
        if snapshots and snapshots[-1] >= through:
            return 0  # someone did it already
        books, _, logs = load(directory, through=through)
        if not logs:
            return 0
        write_snapshot(directory, through, books.ops())
        for n in _numbers(directory, "snapshot"):
            if n < through:
                (directory / _snapshot(n)).unlink(missing_ok=True)
        for n in _numbers(directory, "wal"):
            if n <= through:
                (directory / _wal(n)).unlink(missing_ok=True)
        return len(books)


def blob_path(directory: Path, sha256: str) -> Path:
    return directory / "objects" / sha256[:2] / sha256


def write_blob(directory: Path, data: bytes, fsync: bool = False) -> str:
    """Store a document body once under its SHA-256 (a second put of the same bytes writes nothing)."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(directory, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{digest}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    return digest


# ------------------------------------------------------------------------------------------ migration
def _b64_binaries(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as boto3's scan gave it (bytes) in the form moto keeps it (base64 text)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii") if isinstance(inner, bytes | bytearray) else inner}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") if isinstance(b, bytes | bytearray) else b for b in inner]}
    if kind == "M":
        return {"M": {k: _b64_binaries(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_b64_binaries(v) for v in inner]}
    return value


def migrate_legacy(directory: Path, table: str, key_schema: tuple[str, str | None], bucket: str) -> int:
    """state.json.gz (format 1: every item and document, base64 in JSON) → snapshot-00000000 + blobs."""
    legacy = directory / LEGACY_FILE
    with gzip.open(legacy, "rb") as fh:
        data = json.loads(fh.read().decode("utf-8"))

    def decode(obj: Any) -> Any:
        if isinstance(obj, dict):
            if set(obj) == {"__bytes__"}:
                return base64.b64decode(obj["__bytes__"])
            return {k: decode(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [decode(v) for v in obj]
        return obj

    hash_attr, range_attr = key_schema

    def ops() -> Iterator[Op]:
        for raw in data.get("items", []):
            attrs = {k: _b64_binaries(v) for k, v in decode(raw).items()}
            yield {"t": table, "k": [attrs[hash_attr], attrs[range_attr] if range_attr else None], "i": attrs}
        for obj in data.get("objects", []):
            body = base64.b64decode(obj["body"])
            meta = {f"x-amz-meta-{k}": v for k, v in (obj.get("metadata") or {}).items()}
            if obj.get("content_type"):
                meta["Content-Type"] = obj["content_type"]
            # format 1 did not keep S3's checksum; every document was put with ChecksumAlgorithm=SHA256
            checksum = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
            yield {"s3": bucket, "key": obj["key"], "sha": write_blob(directory, body),
                   "size": len(body), "meta": meta, "ck": ["SHA256", checksum]}

    count = write_snapshot(directory, 0, ops())
    os.replace(legacy, directory / (LEGACY_FILE + ".migrated"))
    return count


# ------------------------------------------------------------------------------------------ moto side
class MotoTarget:
    """Puts the books into moto's in-process backends directly: a restore of 50k items in seconds,
    where one HTTP call per item took minutes. Nothing is re-validated: every image was accepted once."""

    def __init__(self, tables: list[str], buckets: list[str], directory: Path, queues: Sequence[str] = ()) -> None:
        self.directory = directory
        self.tables = {name: _find_table(name) for name in tables}
        self.buckets = {name: _find_bucket(name) for name in buckets}
        self.queues = {name: _find_queue_backend(name) for name in queues}

    def key_schema(self, table: str) -> tuple[str, str | None]:
        t = self.tables[table]
        return t.hash_key_attr, t.range_key_attr

    def apply(self, books: Books) -> tuple[int, int]:
        items = objects = 0
        for op in books.items.values():
            table = self.tables.get(op["t"])
            if table is None:
                continue
            item = _fast_item(op["i"], table.hash_key_attr, table.range_key_attr)
            if table.range_key_attr is not None:
                table.items[item.hash_key][item.range_key] = item
            else:
                table.items[item.hash_key] = item
            items += 1
        for op in books.objects:
            name = op["s3"]
            if name not in self.buckets:
                continue
            backend, bucket = self.buckets[name]
            body = blob_path(self.directory, op["sha"]).read_bytes()
            lock = op.get("lock")
            if lock is None and bucket.object_lock_enabled and bucket.has_default_lock:
                lock = [bucket.default_lock_mode, None, bucket.default_retention()]
            lock = lock or [None, None, None]
            checksum = op.get("ck") or [None, None]
            key = backend.put_object(name, op["key"], body, storage=op.get("sc"), encryption=op.get("enc"),
                                     lock_mode=lock[0], lock_legal_status=lock[1], lock_until=lock[2],
                                     checksum_value=checksum[1], disable_notification=True)
            key.set_metadata(dict(op.get("meta") or {}), replace=True)
            if checksum[0]:
                key.checksum_algorithm = checksum[0]
            objects += 1
        return items, objects

    def requeue(self, books: Books) -> list[Op]:
        """Send again what was sent and never deleted (its worker had not finished when the runtime stopped):
        SQS delivers at least once, so a worker sees a message again after a crash on AWS too. Returns the
        operations that record the new message ids in place of the old."""
        moved: list[Op] = []
        for op in books.messages.values():
            backend = self.queues.get(op["sqs"])
            if backend is None:
                continue
            sent = backend.send_message(op["sqs"], op["body"], message_attributes=op.get("attrs") or None,
                                        deduplication_id=op.get("dedup"), group_id=op.get("group"))
            moved += [{"sqs": op["sqs"], "id": op["id"]}, {**op, "id": sent.id}]
        return moved


def _fast_item(attrs: dict[str, Any], hash_attr: str, range_attr: str | None) -> Any:
    # moto's own __deepcopy__ of an Item skips LimitedSizeDict's size check the same way (the check
    # is O(attributes) per attribute): the image was checked when it was first written.
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    item: Any = Item.__new__(Item)
    item.hash_key = DynamoType(_binary(attrs[hash_attr]))
    item.range_key = DynamoType(_binary(attrs[range_attr])) if range_attr is not None else None
    values = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(values)
    for name, value in attrs.items():
        if not value.keys().isdisjoint(_NEEDS_DECODING):
            value = _binary(value)
        dict.__setitem__(values, name, DynamoType(value))
    item.attrs = values
    return item


def _find_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    for regions in dynamodb_backends.values():
        for backend in regions.values():
            if name in backend.tables:
                return backend.tables[name]
    raise LookupError(f"no DynamoDB table {name} in moto")


def _find_queue_backend(name: str) -> Any:
    from moto.sqs.models import sqs_backends

    for regions in sqs_backends.values():
        for backend in regions.values():
            if name in backend.queues:
                return backend
    raise LookupError(f"no SQS queue {name} in moto")


def _find_bucket(name: str) -> tuple[Any, Any]:
    from moto.s3.models import s3_backends

    for regions in s3_backends.values():
        for backend in regions.values():
            if name in backend.buckets:
                return backend, backend.buckets[name]
    raise LookupError(f"no S3 bucket {name} in moto")


# ------------------------------------------------------------------------------------------ the log
class StateLog:
    """The open books of one running local runtime: restores them, then logs every change."""

    def __init__(self, directory: Path, tables: list[str], buckets: list[str], queues: Sequence[str] = (),
                 fsync: bool | None = None, compact_bytes: int | None = None) -> None:
        self.directory = directory
        self.tables = set(tables)
        self.buckets = set(buckets)
        self.queues = set(queues)
        env_fsync = os.environ.get("LEDGERLOU_STATE_FSYNC", "") not in ("", "0", "false")
        self.fsync = env_fsync if fsync is None else fsync
        self.compact_bytes = compact_bytes if compact_bytes is not None else int(
            os.environ.get("LEDGERLOU_STATE_COMPACT_BYTES", DEFAULT_COMPACT_BYTES))
        self._lock = threading.Lock()
        self._fd = -1
        self.number = 0
        self.size = 0  # bytes logged since the newest snapshot (what a start-up would replay)
        self._compactor: subprocess.Popen[bytes] | None = None
        self._compacted = threading.Condition(self._lock)
        self.closed = False
        self.appends = 0

    # -- start-up
    def restore(self) -> dict[str, Any]:
        """Load the books into moto and open a new log. Returns what was loaded (for the start-up line)."""
        started = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        tables, buckets = sorted(self.tables), sorted(self.buckets)
        target = MotoTarget(tables, buckets, self.directory, sorted(self.queues))
        migrated = 0
        fresh = not _numbers(self.directory, "snapshot") and not _numbers(self.directory, "wal")
        if fresh and (self.directory / LEGACY_FILE).exists() and tables:
            migrated = migrate_legacy(self.directory, tables[0], target.key_schema(tables[0]),
                                      buckets[0] if buckets else "")
        books, base, logs = load(self.directory, repair=True)
        items, objects = target.apply(books)
        moved = target.requeue(books)
        replayed = sum((self.directory / _wal(n)).stat().st_size for n in logs)
        self.number = max([base, *logs, *_numbers(self.directory, "wal")]) + 1
        self._open()
        self.append(moved)
        self.size += replayed
        if logs and replayed >= min(self.compact_bytes, 1024 * 1024) and self._compactor is None:
            self._start_compaction(self.number - 1)  # the next start reads one snapshot, not these logs
        return {"items": items, "objects": objects, "messages": len(moved) // 2, "migrated": migrated,
                "replayed_logs": len(logs),
                "seconds": round(time.monotonic() - started, 2)}

    def _open(self) -> None:
        self._fd = os.open(self.directory / _wal(self.number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    # -- logging
    def append(self, ops: list[Op]) -> None:
        """Log one group of operations (one API call's writes). Returns once the kernel has them."""
        if not ops:
            return
        line = _dumps(ops) + b"\n"
        with self._lock:
            if self.closed:
                raise RuntimeError("the local books are closed (shutting down)")
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(self._fd)
            self.size += len(line)
            self.appends += 1
            if self.size >= self.compact_bytes and self._compactor is None:
                self._rotate_and_compact()

    def put_blob(self, data: bytes) -> str:
        return write_blob(self.directory, data, fsync=self.fsync)

    # -- compaction
    def _rotate_and_compact(self) -> None:
        """Close the current log and start the next one (under self._lock), then fold the closed ones."""
        os.close(self._fd)
        closed = self.number
        self.number += 1
        self._open()
        self.size = 0
        self._start_compaction(closed)

    def _start_compaction(self, through: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                            os.environ.get("PYTHONPATH", "")])}
        self._compactor = subprocess.Popen([sys.executable, "-m", "local.state", "compact", str(self.directory),
                                            str(through)], env=env, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._reap, args=(self._compactor,), daemon=True, name="state-compactor").start()

    def _reap(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        if code != 0:
            print(f"warning: compaction of the local books failed ({code}); the logs are kept", file=sys.stderr,
                  flush=True)
        with self._lock:
            self._compactor = None
            self._compacted.notify_all()

    def compact_now(self, timeout: float = 120.0) -> bool:
        """Fold everything logged so far into a snapshot and wait for it (the local operator endpoint)."""
        with self._lock:
            deadline = time.monotonic() + timeout
            while self._compactor is not None:  # one at a time: wait for a running one first
                if not self._compacted.wait(max(0.0, deadline - time.monotonic())):
                    return False
            if self.size == 0 and not _numbers(self.directory, "wal")[:-1]:
                return True  # nothing logged since the last snapshot
            self._rotate_and_compact()
            while self._compactor is not None:
                if not self._compacted.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    def close(self) -> None:
        """Stop logging (shutdown). A running compaction finishes on its own: it is safe either way."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self._fd >= 0:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = -1


# ------------------------------------------------------------------------------------------ capture
_ACTIVE: StateLog | None = None
_S3_LOCK = threading.RLock()
_SQS_LOCK = threading.RLock()
_local = threading.local()
_installed = False


def activate(log: StateLog | None) -> None:
    global _ACTIVE
    _ACTIVE = log


def _item_op(table: str, item: Any) -> Op:
    return {"t": table, "k": [item.hash_key.to_json(), item.range_key.to_json() if item.range_key else None],
            "i": item.to_json()["Attributes"]}


def _emit(op: Op) -> None:
    group = getattr(_local, "group", None)
    if group is not None:
        group.append(op)
    elif _ACTIVE is not None:
        _ACTIVE.append([op])


@contextlib.contextmanager
def _grouped(commit_on_error: bool) -> Iterator[None]:
    """One log line for all writes of one call (BatchWriteItem, TransactWriteItems), under moto's lock so
    that no other write can land between them and their line."""
    from local.moto_fidelity import LOCK

    with LOCK:
        if getattr(_local, "group", None) is not None:  # nested: the outer call writes the line
            yield
            return
        _local.group = []
        ok = False
        try:
            yield
            ok = True
        finally:
            ops, _local.group = _local.group, None
            if (ok or commit_on_error) and _ACTIVE is not None:
                _ACTIVE.append(ops)


def install() -> None:
    """Wrap moto's write paths so that each successful write is logged before moto answers (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.s3.responses import S3Response

    from local.moto_fidelity import LOCK, make_conditional_writes_atomic, make_queries_partition_local

    make_conditional_writes_atomic()
    make_queries_partition_local()

    def tracked(table_name: str) -> bool:
        return _ACTIVE is not None and table_name in _ACTIVE.tables

    def wrap(name: str, after: Callable[[Any, str, Any, tuple[Any, ...], dict[str, Any]], None]) -> None:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def logged(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            with LOCK:
                result = original(self, table_name, *args, **kwargs)
                if tracked(table_name):
                    after(self, table_name, result, args, kwargs)
                return result

        setattr(DynamoDBBackend, name, logged)

    def after_put(backend: Any, table: str, item: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        _emit(_item_op(table, item))

    def after_delete(backend: Any, table: str, item: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        key = args[0] if args else kwargs["key"]
        t = backend.get_table(table)
        _emit({"t": table, "k": [key[t.hash_key_attr], key[t.range_key_attr] if t.range_key_attr else None]})

    wrap("put_item", after_put)
    wrap("update_item", after_put)  # update_item returns the live item: its image after the update
    wrap("delete_item", after_delete)

    transact = DynamoDBBackend.transact_write_items

    @functools.wraps(transact)
    def transact_logged(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _grouped(commit_on_error=False):  # a failed transaction is rolled back by moto: log none of it
            return transact(self, *args, **kwargs)

    DynamoDBBackend.transact_write_items = transact_logged  # type: ignore[method-assign]

    batch = DynamoHandler.batch_write_item

    @functools.wraps(batch)
    def batch_logged(self: Any) -> Any:
        with _grouped(commit_on_error=True):  # what a failed batch did apply stays applied: log it
            return batch(self)

    DynamoHandler.batch_write_item = batch_logged  # type: ignore[method-assign]

    put_object = S3Response.put_object

    @functools.wraps(put_object)
    def put_object_logged(self: Any) -> Any:
        with _S3_LOCK:  # one key's puts are logged in the order they were applied
            result = put_object(self)
            log = _ACTIVE
            if log is not None and self.bucket_name in log.buckets:
                key = self.backend.get_object(self.bucket_name, self.parse_key_name())
                value = key.value
                log.append([{
                    "s3": self.bucket_name, "key": key.name, "sha": log.put_blob(value), "size": len(value),
                    "meta": dict(key.metadata), "lock": [key.lock_mode, key.lock_legal_status, key.lock_until],
                    "ck": [getattr(key, "checksum_algorithm", None), key.checksum_value],
                    "enc": key.encryption, "sc": key._storage_class}])
            return result

    S3Response.put_object = put_object_logged  # type: ignore[method-assign]

    from moto.sqs.models import SQSBackend

    send = SQSBackend.send_message  # send_message_batch sends each message through it

    @functools.wraps(send)
    def send_logged(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        # Under a lock with the delete below: a worker could receive and delete a message before its send
        # is logged, and the restart would then deliver a finished job again.
        with _SQS_LOCK:
            message = send(self, queue_name, message_body, *args, **kwargs)
            log = _ACTIVE
            if log is not None and queue_name in log.queues:
                log.append([{"sqs": queue_name, "id": message.id, "body": message_body,
                             "attrs": kwargs.get("message_attributes") or (args[0] if args else None),
                             "dedup": kwargs.get("deduplication_id"), "group": kwargs.get("group_id")}])
            return message

    delete = SQSBackend.delete_message

    @functools.wraps(delete)
    def delete_logged(self: Any, queue_name: str, receipt_handle: str) -> Any:
        with _SQS_LOCK:
            log = _ACTIVE
            ids = []
            if log is not None and queue_name in log.queues:
                ids = [m.id for m in self.get_queue(queue_name)._messages if m.had_receipt_handle(receipt_handle)]
            result = delete(self, queue_name, receipt_handle)
            if log is not None and ids:
                log.append([{"sqs": queue_name, "id": i} for i in ids])
            return result

    SQSBackend.send_message = send_logged  # type: ignore[method-assign]
    SQSBackend.delete_message = delete_logged  # type: ignore[method-assign]
    _installed = True


def _main(argv: list[str]) -> int:
    if argv[:1] == ["compact"] and len(argv) == 3:
        compact(Path(argv[1]), int(argv[2]))
        return 0
    print("usage: python -m local.state compact DIR THROUGH", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
