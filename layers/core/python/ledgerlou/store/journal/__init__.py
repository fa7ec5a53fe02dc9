"""The journal's items: the blocks (``blocks``, the write side), the projections (``projections``,
entries by month and account, intents) and the month summaries (``month_summary``).
"""
