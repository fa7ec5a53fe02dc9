"""Payables: vendors (Kreditoren) and incoming invoices with their open items.

The same code as receivables (domain/receivables), on side AP: a vendor's numbers are 70000–99999,
its default account is an expense account, an incoming invoice credits the payable account (SKR03
1600 / SKR04 3300) and debits expense and input VAT, and its number is unique per vendor.
"""

from ledgerlou.domain.receivables.sides import PAYABLES

SIDE = PAYABLES
__all__ = ["SIDE"]
