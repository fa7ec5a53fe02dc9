"""Importing bank transactions (JSON rows, camt.053, MT940, bank CSV): duplicate keys (``keys``),
where the rows come from (``sources``), the import under the account's lease (``run``), the hand-off
of a queued file to the worker (``handoff``) and the SQS worker's message handling (``worker``).
The design is in ``run``'s module docstring.
"""
