"""Building blocks of the response models (request building blocks are in ``ledgerlou.models.common``)."""

from __future__ import annotations

from pydantic import ConfigDict

from ledgerlou.models.common import OutModel


class ExactOut(OutModel):
    """A response model that names every key of the answer: the route writes its answer through the model
    (``json_response(Model.model_validate(...))``), so a key the domain adds without documenting it fails
    the tests instead of reaching clients undocumented, and the OpenAPI document says
    ``additionalProperties: false``, which the conformance test (tests/e2e) holds the API to."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
