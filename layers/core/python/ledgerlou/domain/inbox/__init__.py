"""The inbox: invoices by e-mail (SES receipt → inbound), the extraction (e-invoice XML, PDF text layer, OCR),
the §14 UStG checks and vendor match, inbox items, review cases (approve books through the payables code) and
the ingestion log. Design: docs/inbox.md.
"""
