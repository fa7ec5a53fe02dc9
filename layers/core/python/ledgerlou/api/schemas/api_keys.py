from __future__ import annotations

from pydantic import Field

from ledgerlou.domain.caller import ALL_SCOPES
from ledgerlou.models.common import OutModel, ShortText, StrictModel, examples


class ApiKeyCreate(StrictModel):
    model_config = examples(
        {"label": "Steuerberater Lesezugriff", "scopes": ["journal:read", "reports:read"]})

    label: ShortText
    # Checked by the domain (one message naming every unknown scope); the enum documents them.
    scopes: list[str] = Field(min_length=1, max_length=40,
                              json_schema_extra={"items": {"type": "string", "enum": list(ALL_SCOPES)}})


class ApiKeyOut(OutModel):
    id: str
    label: str
    prefix: str
    scopes: list[str]
    created_at: str
    created_by: str | None
    last_used_at: str | None
    revoked_at: str | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key itself. Shown once; only its hash is stored.")


class ApiKeyList(OutModel):
    api_keys: list[ApiKeyOut]
