"""Receivables (Debitoren) — reserved: customers, outgoing invoices and their open items will live here.
"""
