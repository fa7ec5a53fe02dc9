"""Contact-form messages: PK=CONTACT#<yyyy-mm> SK=<received at>#<uuid>.

Public submissions belong to no tenant; the month partition lists them for the operator. Kept for a
year (``expires_at``, TTL): a message is a request to talk, not a business record.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from ledgerlou.store.base import TableModel


class ContactItem(TableModel):
    message_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    message = UnicodeAttribute()
    received_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute


def put_new(message_id: str, name: str, email: str, message: str, received_at: str, expires_at: int) -> None:
    ContactItem(f"CONTACT#{received_at[:7]}", f"{received_at}#{message_id}", message_id=message_id, name=name,
                email=email, message=message, received_at=received_at, expires_at=expires_at).save(
        condition=ContactItem.PK.does_not_exist())


def list_month(month: str) -> list[ContactItem]:
    return list(ContactItem.query(f"CONTACT#{month}"))
