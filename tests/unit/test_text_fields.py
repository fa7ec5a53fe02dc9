"""Free text in requests (issue 14 item 7, README "API conventions"): one shared type, models/common.py ``Text``,
refuses control, bidirectional formatting and surrogate characters. These tests fail on any string a request can
carry that does not use it (a request model's field, a query parameter of a route), so the class cannot come back
with the next field; the fuzz tests (tests/integration/test_semantic_fuzz.py) send the characters to each one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from ledgerlou.models.common import TEXT_PATTERN, ShortText, StrictModel, Text, refused_character
from pydantic import BaseModel, ValidationError

# Strings that are not free text, and why: each is checked against a fixed set or shape elsewhere.
NOT_FREE_TEXT = {
    ("ApiKeyCreate", "scopes"): "each scope must be one of ALL_SCOPES (domain/admin/api_keys.py); the enum is "
                                "in the document",
    ("UserCreate", "scopes"): "each scope must be one of ALL_SCOPES, as for API keys; the enum is in the document",
    ("LoginRequest", "password"): "a secret, never shown or stored as text: any character a person can type counts",
    ("SetupPasswordRequest", "password"): "a secret, never shown or stored as text (argon2id hash only)",
    ("BookingRequest", "custom_metadata"): "a free JSON object: its keys and texts, at any depth, are checked by "
                                           "the model's own validator (_metadata_text_issue), tested below",
    ("CompletionBooking", "custom_metadata"): "BookingRequest's, inherited with its validator (the subclass only "
                                              "takes more lines)",
    ("EvidenceIn", "metadata"): "a free JSON object: keys and texts at any depth, depth and size are checked by the "
                                "model's validator (models/evidence.py), tested in tests/integration/reconciliation/"
                                "test_evidence.py",
}
# Query parameters that are not free text: plain str parameters must carry a pattern (ids, account numbers)
# or be an enum/Literal; everything else must be Text (SearchTerm).


def _request_models() -> list[type[BaseModel]]:
    """Every request model: every StrictModel of ledgerlou.models and ledgerlou.api.schemas."""
    import ledgerlou.api.schemas
    import ledgerlou.models

    for package in (ledgerlou.models, ledgerlou.api.schemas):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
    found: dict[str, type[BaseModel]] = {}
    todo = list(StrictModel.__subclasses__())
    while todo:
        cls = todo.pop()
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        todo.extend(cls.__subclasses__())
    return [found[name] for name in sorted(found)]


def _has_pattern(metadata: list[Any]) -> bool:
    return any(getattr(m, "pattern", None) for m in metadata)


def _plain_strings(annotation: Any, metadata: list[Any], where: str) -> list[str]:
    """Where ``annotation`` (with its field's ``metadata``) holds a str that is neither Text nor patterned."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _plain_strings(inner, [*metadata, *extra], where)
    if origin in (Union, types.UnionType):
        return [w for arg in get_args(annotation) if arg is not type(None)
                for w in _plain_strings(arg, metadata, where)]
    if origin is Literal or (inspect.isclass(annotation) and issubclass(annotation, Enum)):
        return []
    if origin in (list, tuple, set, frozenset, typing.Sequence):
        return [w for arg in get_args(annotation) for w in _plain_strings(arg, [], f"{where}[]")]
    if origin is dict:
        key, value = get_args(annotation)
        return _plain_strings(key, [], f"{where}{{key}}") + _plain_strings(value, [], f"{where}{{}}")
    if annotation is str:
        if any(isinstance(m, Text) for m in metadata) or _has_pattern(metadata):
            return []
        return [where]
    return []


def test_given_every_request_model_then_every_string_field_is_text_or_has_a_fixed_shape() -> None:
    # Given every request model (StrictModel) of the code
    models = _request_models()
    assert len(models) >= 12, [m.__name__ for m in models]
    # Then no field of one is a plain str: free text is Text (with its length), an id or code has its pattern
    plain = []
    for model in models:
        for name, field in model.model_fields.items():
            if (model.__name__, name) in NOT_FREE_TEXT:
                continue
            plain += [f"{model.__module__}.{model.__name__}.{w}"
                      for w in _plain_strings(field.annotation, list(field.metadata), name)]
    assert not plain, f"plain str fields (use models.common.Text, or give a reason in NOT_FREE_TEXT): {plain}"


def test_given_the_allow_list_then_each_entry_names_a_field_that_exists() -> None:
    fields = {(m.__name__, name) for m in _request_models() for name in m.model_fields}
    assert set(NOT_FREE_TEXT) <= fields


def _route_params() -> list[tuple[str, str, Any, list[Any]]]:
    from local import template

    out = []
    for fn in template.functions().values():
        try:
            module = importlib.import_module(fn.code_uri.strip("/").replace("/", ".") + ".app")
        except ModuleNotFoundError:
            continue
        app = getattr(module, "app", None)
        if app is None:
            continue
        for route in app._static_routes + app._dynamic_routes:
            dependant = route.dependant
            for param in [*dependant.query_params, *dependant.header_params, *dependant.cookie_params]:
                info = param.field_info
                out.append((f"{route.method} {route.path}", param.name, info.annotation, list(info.metadata)))
    return out


def test_given_every_route_then_every_string_query_parameter_is_text_or_has_a_fixed_shape() -> None:
    # Given every query, header and cookie parameter of every route of every function
    params = _route_params()
    assert any(name == "search" for _, name, _, _ in params), "the walk found no route's parameters"
    # Then a string parameter is Text (SearchTerm) or has a pattern or an enum
    plain = [f"{route} {name}" for route, name, annotation, metadata in params
             for _ in _plain_strings(annotation, metadata, name)]
    assert not plain, f"plain str query parameters (use Annotated[SearchTerm | None, Query()]): {plain}"


def test_given_a_plain_str_field_then_the_walk_finds_it() -> None:
    # The walk itself can fail: a model with a plain str (nested in a list and an Optional) is reported
    class Probe(StrictModel):
        fine: ShortText
        notes: list[str | None] | None = None

    assert _plain_strings(Probe.model_fields["notes"].annotation, [], "notes") == ["notes[]"]
    assert _plain_strings(Probe.model_fields["fine"].annotation, list(Probe.model_fields["fine"].metadata),
                          "fine") == []


# ------------------------------------------------------------------------------------- the characters
REFUSED = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f",
           "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ud800",
           "\udfff"]
ALLOWED = ["\t", "\n", "\r", " ", "\xa0", "ä", "ß", "€", "\u200e", "\u200f", "\u061c", "😀", "שלום", "مرحبا",
           "\u200d", "\ufeff", "\u2028"]


class _Probe(StrictModel):
    name: ShortText
    note: Annotated[str, Text(50)] | None = None


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_given_a_refused_character_anywhere_in_a_text_then_the_field_is_refused_naming_it(char: str) -> None:
    for text in (char, f"Büro{char}material", f"{char}Büro", f"Büro{char}"):
        with pytest.raises(ValidationError) as refused:
            _Probe.model_validate({"name": "ok", "note": text})
        [error] = refused.value.errors()
        assert error["loc"] == ("note",)
        assert f"U+{ord(char):04X}" in error["msg"]
        # Also where surrounding whitespace is stripped: refused, never stripped away first (U+001F and U+0085
        # are whitespace to Python)
        with pytest.raises(ValidationError):
            _Probe.model_validate({"name": text})


@pytest.mark.parametrize("char", ALLOWED, ids=lambda c: f"U+{ord(c[0]):04X}")
def test_given_tab_newline_marks_and_letters_of_any_script_then_the_text_is_kept_as_sent(char: str) -> None:
    text = f"Büro{char}material"
    assert _Probe.model_validate({"name": "ok", "note": text}).note == text
    assert refused_character(text) is None


def test_given_the_document_pattern_then_it_refuses_what_the_validator_refuses() -> None:
    # The OpenAPI document says the rule as a pattern (ECMA-262 syntax, which Python's re reads the same way
    # here); both must agree for every character but the surrogates, which the pattern cannot say.
    import re

    pattern = re.compile(TEXT_PATTERN)
    for code in range(0x3000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        assert (pattern.match(f"a{char}b") is None) == (refused_character(char) is not None), f"U+{code:04X}"
    assert _Probe.model_json_schema()["properties"]["name"]["pattern"] == TEXT_PATTERN


def test_given_custom_metadata_with_a_refused_character_in_a_key_or_a_nested_text_then_the_booking_is_refused() -> None:
    from ledgerlou.models.journal import BookingRequest

    valid = {"booking_date": "2026-01-15", "description": "Porto",
             "lines": [{"account_debit": "4910", "account_credit": "1000", "amount": "8.50"}]}
    assert BookingRequest.model_validate({**valid, "custom_metadata": {"ticket": ["T-1\t", {"by": "\u200fאבי"}]}})
    for metadata, where in [({"a\x00": 1}, "key 'a\\x00'"), ({"a": {"b": ["ok", "x\u202e"]}}, "a.b[1]"),
                            ({"a": "\x1b[31m"}, "a")]:
        with pytest.raises(ValidationError) as refused:
            BookingRequest.model_validate({**valid, "custom_metadata": metadata})
        [error] = refused.value.errors()
        assert error["loc"] == ("custom_metadata",) and error["msg"].startswith(f"Value error, {where}: must not"), \
            error["msg"]
