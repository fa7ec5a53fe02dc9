"""Receivables and payables on the journal: partners (Debitoren/Kreditoren), invoices, open items and
settlements.

Everything an invoice is after its creation derives from the journal: an invoice is booked (or
linked) by appending to the journal, a settlement is an intent that says which open items it settles
(``settles``), a reversal of either cancels or reopens; the receivables projector (projection.py)
keeps the invoice and open-item projections from those facts, in journal order, and reads merge the
blocks not yet projected (read-your-writes). Payables (domain/payables) are the same code on side AP.
"""
