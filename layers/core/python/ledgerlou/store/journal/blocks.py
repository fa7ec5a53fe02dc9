"""The journal: an append-only log of blocks in the tenant's journal partition.

    PK=T#<tenant>#JOURNAL  SK=BLOCK#000000000042   one block per append (one booking, a batch of
                                                   bookings, or a control event such as a period lock)
    PK=T#<tenant>#JOURNAL  SK=HEAD                 hint: the latest block known to a writer
    PK=T#<tenant>#JOURNAL  SK=PROJECTED            watermark: blocks ≤ seq are fully projected

A block is written once with ``attribute_not_exists(PK)`` on the next sequence number: two writers
that build on the same head compete for the same key and exactly one wins (gapless numbering and an
unbroken hash chain without transactions; docs/architecture.md "The journal write path"). Blocks are never updated or
deleted — no code path here does either, and the functions' IAM policies allow no DeleteItem on them.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou import config
from ledgerlou.store.base import TableModel, ddb, tenant_pk, update_if

GENESIS_HASH = "0" * 64
BLOCK_PREFIX = "BLOCK#"
MAX_BLOCK_BYTES = 350_000  # DynamoDB's item limit is 400 KB; keep headroom for attributes


class BlockItem(TableModel):
    # Two attributes besides the keys (measured: every attribute adds to the cost of the one write of a
    # booking, in DynamoDB's size accounting and in the SDK's and moto's per-attribute work).
    # JSON {"seq", "kind" (bookings | control), "first_journal_number" (first of this block, or next if
    # none), "last_journal_number" (highest through this block), "head_hash" (audit_hash of the chain's
    # last entry through this block), "locks" ({"2026-01": "locked" | "soft_locked"} as of this block),
    # "created_at"}
    header = UnicodeAttribute(attr_name="h")
    # zlib-compressed JSON {"intents", "entries"[, "control"]}: a 500-line booking with tax splits is
    # ~1,000 entries, far over 400 KB raw.
    payload = BinaryAttribute(attr_name="p", legacy_encoding=False)


class HeadItem(TableModel):
    seq = NumberAttribute()


class WatermarkItem(TableModel):
    seq = NumberAttribute()


def journal_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "JOURNAL")


def parse_block_key(pk: str, sk: str) -> tuple[str, int] | None:
    """(tenant, seq) of a journal block's key (e.g. from a stream record); None for any other item."""
    suffix = "#JOURNAL"
    if not (pk.startswith("T#") and pk.endswith(suffix) and sk.startswith(BLOCK_PREFIX)):
        return None
    tenant = pk[2:-len(suffix)]
    return (tenant, int(sk[len(BLOCK_PREFIX):])) if tenant else None


def block_sk(seq: int) -> str:
    return f"{BLOCK_PREFIX}{seq:012d}"


@dataclass
class Block:
    seq: int
    kind: str
    first_journal_number: int
    last_journal_number: int
    head_hash: str
    locks: dict[str, str]
    created_at: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def entries(self) -> list[dict[str, Any]]:
        return list(self.payload.get("entries", []))

    @property
    def intents(self) -> list[dict[str, Any]]:
        return list(self.payload.get("intents", []))


def encode_payload(payload: dict[str, Any]) -> bytes:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # A window no larger than the data: zlib's set-up cost grows with the window, and for the typical
    # block of one booking (~1 KB) it was most of the compression time (23 vs 62 µs). Any zlib reader
    # (decompress with the default wbits) reads every window size.
    return zlib.compress(raw, 6, max(9, min(15, len(raw).bit_length())))


def _header(block: Block) -> str:
    return json.dumps({"seq": block.seq, "kind": block.kind, "first_journal_number": block.first_journal_number,
                       "last_journal_number": block.last_journal_number, "head_hash": block.head_hash,
                       "locks": block.locks, "created_at": block.created_at}, sort_keys=True, separators=(",", ":"))


def _block(header: str, payload: bytes) -> Block:
    h = json.loads(header)
    return Block(seq=h["seq"], kind=h["kind"], first_journal_number=h["first_journal_number"],
                 last_journal_number=h["last_journal_number"], head_hash=h["head_hash"], locks=h["locks"],
                 created_at=h["created_at"], payload=json.loads(zlib.decompress(payload).decode("utf-8")))


def _to_block(item: BlockItem) -> Block:
    return _block(item.header, item.payload)


def genesis() -> Block:
    return Block(seq=0, kind="genesis", first_journal_number=1, last_journal_number=0, head_hash=GENESIS_HASH,
                 locks={}, created_at="")


def _low_level_item(tenant_id: str, block: Block, encoded: bytes) -> dict[str, Any]:
    """The block as BlockItem stores it (same attribute names and types, so pynamodb reads it)."""
    return {"PK": {"S": journal_pk(tenant_id)}, "SK": {"S": block_sk(block.seq)}, "h": {"S": _header(block)},
            "p": {"B": encoded}}


def _from_low_level(item: dict[str, Any]) -> Block:
    return _block(item["h"]["S"], item["p"]["B"])


def append_block(tenant_id: str, block: Block, encoded: bytes) -> Block | None:
    """The conditional append. None if this writer won the sequence number; otherwise the block that
    holds it, returned by the failed write itself (``ReturnValuesOnConditionCheckFailure``), so a
    writer that lost a race learns the new head without a second call.

    The low-level client, not pynamodb: this is the one call of every booking, pynamodb's model layer
    adds measurable time to it, and its ``save`` cannot ask for the item on a failed condition."""
    client = ddb()
    try:
        client.put_item(TableName=config.table_name(), Item=_low_level_item(tenant_id, block, encoded),
                        ConditionExpression="attribute_not_exists(PK)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return None
    except client.exceptions.ConditionalCheckFailedException as ex:
        existing = ex.response.get("Item")
        if existing:
            return _from_low_level(existing)
    # A backend that does not return the item: read it (it exists: that is why the write failed).
    winner = get_block(tenant_id, block.seq)
    if winner is None:  # cannot happen: blocks are never deleted
        raise RuntimeError(f"journal block {block.seq} failed its condition but does not exist")
    return winner


def get_block(tenant_id: str, seq: int) -> Block | None:
    if seq == 0:
        return genesis()
    try:
        return _to_block(BlockItem.get(journal_pk(tenant_id), block_sk(seq), consistent_read=True))
    except DoesNotExist:
        return None


def get_blocks(tenant_id: str, seqs: list[int]) -> dict[int, Block]:
    """Several blocks in one BatchGetItem (a writer that lost a race catches up in one call)."""
    keys = [(journal_pk(tenant_id), block_sk(seq)) for seq in seqs if seq > 0]
    blocks = (_to_block(item) for item in BlockItem.batch_get(keys, consistent_read=True))
    return {block.seq: block for block in blocks}


def iter_blocks(tenant_id: str, start_seq: int = 1, page_size: int = 100) -> Any:
    """All blocks from start_seq in order (export, verify): one paged Query, never per booking."""
    for item in BlockItem.query(journal_pk(tenant_id), BlockItem.SK.between(block_sk(start_seq), block_sk(10**12 - 1)),
                                consistent_read=True, page_size=page_size):
        yield _to_block(item)


def _get_seq(model: type[HeadItem] | type[WatermarkItem], tenant_id: str, sk: str) -> int:
    try:
        return int(model.get(journal_pk(tenant_id), sk, consistent_read=True).seq)
    except DoesNotExist:
        return 0


def get_head_hint(tenant_id: str) -> int:
    return _get_seq(HeadItem, tenant_id, "HEAD")


def get_watermark(tenant_id: str) -> int:
    return _get_seq(WatermarkItem, tenant_id, "PROJECTED")


def _advance(model: type[HeadItem] | type[WatermarkItem], tenant_id: str, sk: str, seq: int,
             contiguous: bool) -> bool:
    item = model(journal_pk(tenant_id), sk)
    if contiguous:
        cond = (model.seq == seq - 1) if seq > 1 else (model.seq.does_not_exist() | (model.seq == 0))
    else:
        cond = model.seq.does_not_exist() | (model.seq < seq)
    return update_if(item, [model.seq.set(seq)], cond)


def advance_head_hint(tenant_id: str, seq: int) -> bool:
    """Monotonic: the hint only moves forward."""
    return _advance(HeadItem, tenant_id, "HEAD", seq, contiguous=False)


def advance_watermark(tenant_id: str, seq: int) -> bool:
    """Contiguous: PROJECTED moves from seq-1 to seq only, so it never skips an unprojected block."""
    return _advance(WatermarkItem, tenant_id, "PROJECTED", seq, contiguous=True)
