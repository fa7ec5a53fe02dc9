"""File responses that may be large (journal export, DATEV export, documents).

A Lambda behind API Gateway can answer at most 6 MB (and binary bodies grow by a third in base64).
Up to INLINE_LIMIT the file is the response; above it the file goes to the exports bucket (private,
encrypted, deleted after a day by its lifecycle rule) and the answer is 303 See Other with a presigned
URL valid for 15 minutes — clients that follow redirects (curl -L, browsers, most HTTP libraries) get
the file either way.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledgerlou import config
from ledgerlou.money import dumps

INLINE_LIMIT = 4 * 1024 * 1024
URL_TTL_S = 900
# On every file the API answers (docs/api-contract.md): a file opened from the API's origin runs nothing
# (CSP sandbox, no sources) and the browser keeps the declared type instead of guessing one (nosniff).
FILE_HEADERS = {"Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff"}


def exports_bucket() -> str:
    return config.exports_bucket()


def file_response(tenant_id: str, body: bytes, content_type: str, filename: str,
                  disposition: str = "attachment") -> Response[str]:
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"', **FILE_HEADERS}
    if len(body) <= INLINE_LIMIT:
        if content_type.startswith(("application/x-ndjson", "application/json")):
            return Response(200, content_type, body=body.decode("utf-8"), headers=headers)
        return Response(200, content_type, body=body, headers=headers)  # type: ignore[arg-type]
    from ledgerlou.store import blobs

    key = blobs.put_export(tenant_id, body, content_type, filename, headers["Content-Disposition"])
    # The file is on S3's origin, never on the API's; the URL pins the type and the attachment disposition.
    url = blobs.presigned_get(exports_bucket(), key, content_type, headers["Content-Disposition"], URL_TTL_S)
    return redirect_response(url, len(body))


def redirect_response(url: str, size: int) -> Response[str]:
    """303 See Other to a presigned URL (15 minutes) for a file too large for a Lambda answer."""
    return Response(303, "application/json", headers={"Location": url, **FILE_HEADERS},
                    body=dumps({"download_url": url, "expires_in": URL_TTL_S, "size": size}))
