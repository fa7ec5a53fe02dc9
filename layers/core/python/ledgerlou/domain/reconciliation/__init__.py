"""Bank reconciliation: suggestions (scoring and the candidate index), reconcile / unmatch / dismiss, batches,
match groups, the reconciliation view with its bank-ledger projection, and Eigenbeleg evidence.
Design: docs/reconciliation.md.
"""
