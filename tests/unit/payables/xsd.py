"""The two schemas a pain.001.001.09 file must pass: ISO 20022 and the German banks' GBIC_5 subset
(read from ../shared/samples/sepa-xsd; the tests that need them skip when the samples are absent)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree

from tests.conftest import samples_dir

SCHEMAS = {"iso": ("pain.001.001.09.xsd",), "gbic5": ("dk-gbic", "pain.001.001.09_GBIC_5.xsd")}


@lru_cache(maxsize=2)
def schema(name: str) -> Any:
    return etree.XMLSchema(etree.parse(str(samples_dir("sepa-xsd", *SCHEMAS[name]))))


def assert_valid(data: bytes) -> Any:
    """Parse ``data`` and validate it against both schemas; the parsed root for further checks."""
    assert not data.startswith(b"\xef\xbb\xbf"), "UTF-8 without BOM"
    root = etree.fromstring(data)
    for name in SCHEMAS:
        xsd = schema(name)
        assert xsd.validate(root), f"{name}: {xsd.error_log}"
    return root


NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def texts(root: Any, path: str) -> list[str]:
    return [str(t) for t in root.xpath(path + "/text()", namespaces=NS)]
