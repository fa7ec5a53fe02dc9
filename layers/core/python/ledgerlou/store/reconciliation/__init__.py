"""Bank reconciliation: match records of bank transactions, linked intents, match groups, the ledger side."""
