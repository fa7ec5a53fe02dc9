"""The inbox's items (pynamodb models and key building only).

Access patterns:

* inbox item              PK=T#<t>#INBOX        SK=<inbox id>       GetItem; Query newest first (ids are
                                                                      time-ordered UUIDs, domain/inbox/ids.py)
* duplicate claim         PK=T#<t>#INBOXDUP     SK=<vendor key>#<invoice number>   conditional PutItem
* review case             PK=T#<t>#REVIEW       SK=<case id>        GetItem; Query newest first
* ingestion log entry     PK=T#<t>#INGEST       SK=<entry id>       Query newest first
* the tenant's address    PK=T#<t>#INBOXADDR    SK=ADDRESS          GetItem
* address → tenant        PK=INBOXADDR#<local part>  SK=ADDRESS     GetItem (the inbound function's lookup)

The address pointer is, like the API-key hash pointer (store/admin), a lookup that finds a tenant in the
first place: it holds no rights (knowing an address lets one send mail to an inbox, nothing more).
"""
