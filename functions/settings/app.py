"""Settings group: tax codes (Steuerschlüssel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.resolver import json_response, link, make_resolver, responses, with_links
from ledgerlou.api.schemas.tax_codes import (
    TaxCodeCreate,
    TaxCodeDeactivated,
    TaxCodeList,
    TaxCodeOut,
    TaxCodePatch,
    TaxCodePatched,
)
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import

if TYPE_CHECKING:
    from ledgerlou.domain.chart import tax_codes
else:  # loaded on first use: the store (pynamodb) is not needed to route or to reject a bad request
    tax_codes = lazy_import("ledgerlou.domain.chart.tax_codes")

app = make_resolver()
READ, WRITE = "settings:read", "settings:write"
TAGS = ["Tax codes"]
CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,20}$")]


@app.get("/v1/tax-codes", summary="List tax codes", tags=TAGS, responses=responses(TaxCodeList))
@requires(READ)
def list_tax_codes(include_inactive: Annotated[bool, Query()] = False) -> Response[str]:
    ctx = caller(app)
    items = tax_codes.list_codes(ctx.tenant_id, include_inactive)
    return json_response({"tax_codes": [tax_codes.to_dict(i) for i in items]})


@app.post("/v1/tax-codes", summary="Create a custom tax code", tags=TAGS,
          responses=with_links(responses(TaxCodeOut, 201, "Created", 400, 401, 403, 404, 409), 201,
                               ChangeTaxCode=link("PATCH", "/v1/tax-codes/{code}", code="$response.body#/code"),
                               DeactivateTaxCode=link("DELETE", "/v1/tax-codes/{code}", code="$response.body#/code")))
@requires(WRITE)
@idempotent("tax-codes")
def create_tax_code(body: TaxCodeCreate) -> Response[str]:
    ctx = caller(app)
    item = tax_codes.create_code(ctx.tenant_id, ctx.chart, code=body.code, label=body.label,
                                 description=body.description, rate=body.rate, vat_account=body.vat_account,
                                 self_assess_account=body.self_assess_account, direction=body.direction)
    return json_response(tax_codes.to_dict(item), 201)


@app.patch("/v1/tax-codes/<code>", summary="Change a tax code", tags=TAGS,
           responses=responses(TaxCodePatched, 200, "Updated", 400, 401, 403, 404, 409))
@requires(WRITE)
def patch_tax_code(code: CodePath, body: TaxCodePatch) -> Response[str]:
    ctx = caller(app)
    item = tax_codes.patch_code(ctx.tenant_id, ctx.chart, code, body.model_dump(exclude_unset=True))
    return json_response({"code": item.code, "label": item.label, "is_active": bool(item.is_active)})


@app.delete("/v1/tax-codes/<code>", summary="Deactivate a tax code (never deleted)", tags=TAGS,
            responses=responses(TaxCodeDeactivated, 200, "Deactivated", 401, 403, 404))
@requires(WRITE)
def delete_tax_code(code: CodePath) -> Response[str]:
    ctx = caller(app)
    item = tax_codes.deactivate_code(ctx.tenant_id, code)
    return json_response({"code": item.code, "is_active": bool(item.is_active)})


lambda_handler = http_entrypoint(app)
