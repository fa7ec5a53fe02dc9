"""Bank accounts, bank transactions and import batches: keys and access patterns of the bank group.

One module per item kind: ``accounts`` (bank account items and the import lease), ``claims`` (IBAN and
ledger-account uniqueness), ``batches`` (import batches), ``pages`` (transaction pages), ``txids`` (the
transaction id codec), ``counters`` (per-account counters).

Access patterns (docs/architecture.md "Access patterns"):

* bank account              PK=T#<t>#BANKACCOUNT             SK=<bank account id>  Get / Query (a tenant has few)
* IBAN uniqueness           PK=T#<t>#BANKIBAN                SK=<IBAN>             conditional Put
* ledger account link       PK=T#<t>#BANKLEDGER              SK=<account number>   conditional Put
* transaction pages         PK=T#<t>#BANKTX#<acct>#<YYYY-MM> SK=P#<page:05d>        conditional Put (new page);
                                                                                   Query (a month; projected:
                                                                                   the duplicate check, by id);
                                                                                   GetItem + conditional Update
* import batch              PK=T#<t>#IMPORTBATCH             SK=<batch id>         Get / Update

Transactions are packed: an import writes its new rows into *page items* per bank account and
booking month (up to ``PAGE_BYTES``; the layout is described in ``pages``), one
conditional PutItem per page — 40 items for a 10,000-entry statement instead of 20,000. A page is
never overwritten: later changes are UpdateItems of its status string (conditional on its version)
or of its owning batch (the take-over of a dead batch's page).

A transaction id names its bank account (an 8-hex tag), its booking month and its duplicate hash
(``tx_id``): ids derive from the duplicate key, so every attempt of an import gives a row the same
id, and a GET by id reads the month's duplicate hashes (a projected Query of one partition), then
the page — strongly consistent, no pointer item. Not GSI1: a GSI is eventually consistent (a client
that imports and then GETs a transaction by id could get a 404), and moto's index queries walk the
whole table.

The duplicate check of an import is the same projected Query per month it touches: imports into
one bank account are serialised by a lease on the account item (``acquire_lease``), under which the
months' hashes are all there is to compare. The bulk paths use the low-level client instead of
pynamodb models. The small items (accounts, claims, batches) are pynamodb models like everywhere
else. Per-account counters are maintained with UpdateItem ADD, guarded so that a retried import
batch counts once and only while it holds the lease (``apply_batch``). Transactions stored by earlier
versions (one month item + one ``BANKTXID`` by-id item each) are not read any more.
"""
