"""The journal block key as the stream worker sees it: only the store knows its shape."""

from __future__ import annotations

import pytest
from ledgerlou.store.journal.blocks import block_sk, journal_pk, parse_block_key


def test_given_a_block_key_then_the_tenant_and_sequence_come_back() -> None:
    # Given the key the store writes for block 42 of a tenant  When parsed  Then tenant and seq
    assert parse_block_key(journal_pk("t-1"), block_sk(42)) == ("t-1", 42)


@pytest.mark.parametrize(("pk", "sk"), [
    ("T#t-1#JOURNAL", "HEAD"),  # the head hint of the same partition
    ("T#t-1#JOURNAL", "PROJECTED"),  # the watermark
    ("T#t-1#BANKACCOUNT", "BLOCK#000000000001"),  # another entity
    ("T##JOURNAL", "BLOCK#000000000001"),  # no tenant
    ("", ""),
])
def test_given_any_other_item_then_it_is_not_a_block(pk: str, sk: str) -> None:
    # Given a changed item that is not a journal block  When parsed  Then None (the projector skips it)
    assert parse_block_key(pk, sk) is None
