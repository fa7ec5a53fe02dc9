"""Administration: API keys and authentication (``api_keys``), tenants and their set-up (``tenants``).
"""
