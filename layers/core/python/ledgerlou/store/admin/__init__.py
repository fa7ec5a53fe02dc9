"""API keys (``api_keys``) and tenants (``tenants``).
"""
