"""DynamoDB Streams worker: projects new journal blocks (read side) — the backstop that keeps
projections complete even when nothing reads them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ledgerlou.domain.journal import projector
from ledgerlou.entrypoint import STREAM_EVENT_ID, entrypoint
from ledgerlou.observability import logger


def project(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    targets: dict[str, int] = {}
    for record in event.get("Records", []):
        keys = (record.get("dynamodb") or {}).get("Keys") or {}  # the stream is KEYS_ONLY (template.yaml)
        pk, sk = keys.get("PK", {}).get("S", ""), keys.get("SK", {}).get("S", "")
        block = projector.block_of(pk, sk)
        if block is not None:
            tenant, seq = block
            targets[tenant] = max(targets.get(tenant, 0), seq)
    failures = []
    for tenant, seq in targets.items():
        try:
            projector.project_through(tenant, seq)
        except Exception:  # noqa: BLE001 - one tenant's failure must not block the others
            logger.exception("projection failed", extra={"tenant_id": tenant, "seq": seq})
            failures.append(tenant)
    if failures:
        # Fail the batch: Lambda retries the stream batch (bisected), and the next block heals it anyway.
        raise RuntimeError(f"projection failed for {len(failures)} tenant(s)")
    return {"projected": targets}


lambda_handler = entrypoint(project, correlation_id_path=STREAM_EVENT_ID)
