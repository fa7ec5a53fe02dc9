"""Request models that the domain reads (pydantic, strict), and the shared field types.

They sit below both ``api`` (which validates requests with them and documents them in the OpenAPI
document) and ``domain`` (which takes them as validated input), so the domain needs nothing from
``api``. Response models stay in ``api.schemas``.
"""
