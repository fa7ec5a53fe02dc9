"""Document metadata items (``objects``); the objects themselves are in S3 (``store.blobs``).
"""
