"""Bank reconciliation — reserved: match suggestions, reconciling bank transactions with bookings
and match groups will live here.
"""
