"""Payables are stored by store/receivables with side ``AP`` in every key (vendors, incoming
invoices, their open items): one module owns each key shape, whichever side uses it."""

from ledgerlou.store.receivables import invoices, partners

SIDE = "AP"
__all__ = ["SIDE", "invoices", "partners"]
