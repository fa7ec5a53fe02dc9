"""Reports from the month summaries: trial balance, P&L, balance sheet, VAT return, DATEV export
(``statements``).
"""
