"""The tenant's accounts (``accounts``) and tax codes (``tax_codes``).
"""
