"""Request/response models of the payables group (vendors, incoming invoices, open items): the shapes
of the receivables group (models/receivables.py), with ``vendor_id`` for the partner."""

from __future__ import annotations

from ledgerlou.models.common import examples
from ledgerlou.models.receivables import (
    InvoiceBase,
    InvoiceCreated,
    InvoiceOut,
    InvoicePatch,
    InvoiceStatus,
    InvoiceType,
    OpenItemOut,
    PartnerIn,
    PartnerOut,
    Uuid,
)

__all__ = ["IncomingInvoiceIn", "InvoiceCreated", "InvoiceOut", "InvoicePatch", "InvoiceStatus", "InvoiceType",
           "OpenItemOut", "PartnerIn", "PartnerOut"]


class IncomingInvoiceIn(InvoiceBase):
    model_config = examples({"vendor_id": "00000000-0000-4000-8000-000000000002", "invoice_number": "2026-4711",
                             "invoice_date": "2026-01-15", "due_date": "2026-02-14", "total_net": "100.00",
                             "total_tax": "19.00", "total_gross": "119.00",
                             "lines": [{"description": "Büromaterial", "net_amount": "100.00", "tax_code": "VSt19",
                                        "account": "4930"}],
                             "payment_terms": {"skonto_percent": "2", "skonto_days": 10, "net_days": 30,
                                               "text": "2 % Skonto innerhalb 10 Tagen, 30 Tage netto"}})

    vendor_id: Uuid
