"""Store of receivables and payables: partners (partners.py) and invoices / open items (invoices.py).
Payables use the same modules with side ``AP`` in every key (store/payables)."""
