"""What an AWS error says, without importing the SDK: the resolver asks it of every unexpected
error (a throttle is a 503), and it must not pull pynamodb or botocore into a cold start."""

from __future__ import annotations

CONDITION_FAILED = "ConditionalCheckFailedException"
# DynamoDB's answers to "too many requests" (botocore retries them first; these are what is left):
# the caller may retry after a moment, so 503 with Retry-After, never a 409 or a 500.
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})


def aws_error_code(err: BaseException) -> str | None:
    """The AWS error code of a pynamodb error (its cause) or of a botocore ClientError, else None."""
    code = getattr(err, "cause_response_code", None)
    if code:
        return str(code)
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        found = (response.get("Error") or {}).get("Code")
        return str(found) if found else None
    return None


def is_condition_failure(err: BaseException) -> bool:
    """A conditional write that was refused because its condition did not hold (and nothing else)."""
    return aws_error_code(err) == CONDITION_FAILED


def is_throttle(err: BaseException) -> bool:
    return aws_error_code(err) in THROTTLED
