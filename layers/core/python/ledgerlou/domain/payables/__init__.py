"""Payables (Kreditoren) — reserved: vendors, incoming invoices and payment runs (SEPA pain.001) will
live here.
"""
