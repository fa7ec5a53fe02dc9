"""The base of the response models that name every key of their answer."""

from __future__ import annotations

from pydantic import ConfigDict

from ledgerlou.models.common import OutModel


class ExactOut(OutModel):
    """A response model that names every key of the answer. The answer is written through the model (the
    domain builds it, or the route validates the domain's mapping with it), so a key the domain adds without
    documenting it fails the tests instead of reaching clients undocumented, and the OpenAPI document says
    ``additionalProperties: false``, which the conformance test (tests/e2e) holds the API to."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
