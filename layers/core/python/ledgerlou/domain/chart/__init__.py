"""The chart of accounts (Kontenrahmen SKR03/SKR04, ``skr``), the tenant's accounts (``accounts``) and
tax codes (``tax_codes``).
"""
