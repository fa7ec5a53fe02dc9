"""Period locks and lock requests (``locks``).
"""
