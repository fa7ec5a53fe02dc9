"""The Lambda layers install what the local runtime and the tests run with: every package a layer pins is pinned
at the same version in requirements.txt, so a test run never checks other code than AWS runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [ROOT / "layers/core/python/requirements.txt", ROOT / "layers/inbox/requirements.txt"]


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        found = re.fullmatch(r"([A-Za-z0-9_.\-\[\],]+)==([^\s;]+)", line)
        assert found, f"{path.name}: {line!r} is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", found.group(1).split("[")[0]).lower()] = found.group(2)
    return pins


def test_given_the_layers_requirements_when_compared_then_every_pin_equals_the_root_pin() -> None:
    root = _pins(ROOT / "requirements.txt")
    for layer in LAYERS:
        for name, version in _pins(layer).items():
            assert name in root, f"{layer.relative_to(ROOT)} pins {name}, requirements.txt does not"
            assert root[name] == version, (f"{layer.relative_to(ROOT)} pins {name}=={version}, "
                                           f"requirements.txt {root[name]}")


def test_given_the_core_layer_when_listed_then_it_carries_no_inbox_or_ocr_library() -> None:
    # The OCR engine is 412 MB unzipped, beyond Lambda's 250 MB for a function and its layers (docs/inbox.md).
    core = _pins(LAYERS[0])
    assert not {"rapidocr", "onnxruntime", "factur-x", "pypdfium2"} & set(core)
