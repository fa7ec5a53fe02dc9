"""Users, login and the public forms (docs/api-contract.md "People")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, WithJsonSchema

from ledgerlou.domain.caller import ALL_SCOPES
from ledgerlou.domain.people.passwords import MAX_LENGTH, MIN_LENGTH
from ledgerlou.models.common import OutModel, StrictModel, Text, examples

# RFC 5321 limits the address to 254 characters; the pattern is the usual "local@domain.tld" check,
# without spaces or control characters (deliverability is what the invitation mail proves).
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")]
# A person's name goes into a mail header: no control characters (no header injection).
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                              pattern=r"^[^\x00-\x1f\x7f]+$")]
# format "password": a secret of any characters (no text rule), and UIs hide what is typed
Password = Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH),
                     WithJsonSchema({"type": "string", "format": "password", "minLength": MIN_LENGTH,
                                     "maxLength": MAX_LENGTH})]
# Login checks no length rule: an old password must still be accepted if the rule ever changes.
LoginPassword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH),
                          WithJsonSchema({"type": "string", "format": "password", "minLength": 1,
                                          "maxLength": MAX_LENGTH})]
Token = Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class UserCreate(StrictModel):
    model_config = examples({"email": "buchhaltung@muster.de", "name": "Erika Mustermann",
                             "scopes": ["journal:read", "journal:write"]})

    email: Email
    name: PersonName
    scopes: list[str] = Field(min_length=1, max_length=40,
                              json_schema_extra={"items": {"type": "string", "enum": list(ALL_SCOPES)}})


class UserOut(OutModel):
    id: str
    email: str
    name: str
    scopes: list[str]
    status: str = Field(description="invited | active | deactivated")
    created_at: str
    created_by: str | None
    deactivated_at: str | None


class UserList(OutModel):
    users: list[UserOut]


class LoginRequest(StrictModel):
    model_config = examples({"email": "buchhaltung@muster.de", "password": "ein langes Passwort"})

    email: Email
    password: LoginPassword


class SessionUser(OutModel):
    id: str
    email: str
    name: str
    scopes: list[str]


class LoginResponse(OutModel):
    token: str = Field(description="Session token (ls_…), valid 12 h; send it as Authorization: Bearer")
    expires_at: str
    user: SessionUser


class SetupPasswordRequest(StrictModel):
    model_config = examples({"token": "aus-der-einladungs-e-mail-0123456789", "password": "ein langes Passwort"})

    token: Token
    password: Password = Field(description=f"At least {MIN_LENGTH} characters")


class ForgotPasswordRequest(StrictModel):
    model_config = examples({"email": "buchhaltung@muster.de"})

    email: Email


class ContactRequest(StrictModel):
    model_config = examples({"name": "Max Muster", "email": "max@example.com",
                             "message": "Ich interessiere mich für LedgerLou.", "_honeypot": ""})

    name: PersonName
    email: Email
    message: Annotated[str, Text(5000, min_length=1, strip=True)]
    honeypot: Annotated[str, Text(1000)] | None = Field(default=None, alias="_honeypot",
                                 description="Leave empty (a field people do not see; bots fill it)")
