"""Accounting periods: locks, their four-eyes approval and the closing hash (``locking``).
"""
