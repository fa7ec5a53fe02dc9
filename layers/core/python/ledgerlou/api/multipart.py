"""multipart/form-data uploads (python-multipart): the file field and plain form fields."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from ledgerlou.errors import FileTooLarge, InvalidInput, UnsupportedMediaType
from ledgerlou.models.common import refused_character

MAX_UPLOAD = 6 * 1024 * 1024


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None
    fields: dict[str, str] = field(default_factory=dict)


def read_upload(event: Any, field_name: str = "file") -> Upload:
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    content_type = headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType.field("Content-Type", "must be multipart/form-data")
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    if len(body) > MAX_UPLOAD:
        raise FileTooLarge("The upload is too large.")
    import python_multipart  # lazily: keeps it out of cold starts of functions that never upload

    files: dict[str, Upload] = {}
    fields: dict[str, str] = {}
    parts: list[dict[str, Any]] = []

    def on_field(f: Any) -> None:
        fields[f.field_name.decode()] = (f.value or b"").decode("utf-8", "replace")

    def on_file(f: Any) -> None:
        f.file_object.seek(0)
        files[f.field_name.decode()] = Upload(f.file_object.read(),
                                              f.file_name.decode("utf-8", "replace") if f.file_name else None,
                                              None)
        parts.append({})

    try:
        parser = python_multipart.create_form_parser(
            {"Content-Type": content_type.encode(), "Content-Length": str(len(body)).encode()}, on_field, on_file,
            config={"MAX_MEMORY_FILE_SIZE": MAX_UPLOAD})
        parser.write(body)
        parser.finalize()
    except Exception as ex:
        raise InvalidInput.field("body", f"malformed multipart body: {type(ex).__name__}") from ex
    upload = files.get(field_name)
    if upload is None:
        raise InvalidInput.field(field_name, "a file part is required")
    # The file's name and the form's text fields are free text like any field of a JSON body (models/common.py
    # Text): "Rechnung<U+202E>fdp.exe" would be listed and downloaded as "Rechnungexe.pdf".
    if upload.filename is not None and (issue := refused_character(upload.filename)):
        raise InvalidInput.field(field_name, f"file name {issue}")
    for name, value in fields.items():
        if issue := refused_character(value):
            raise InvalidInput.field(name, issue)
    upload.fields = fields
    return upload
