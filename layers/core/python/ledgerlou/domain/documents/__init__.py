"""Documents (Belege): upload, content-type check and integrity-checked download (``archive``).
"""
