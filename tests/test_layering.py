"""The dependency rule: runtime <- export <- edgeae, and the runtime stays light."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "onnx", "edgeae", "edgeae_export", "matplotlib", "scipy")


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {m.split(".")[0] for m in json.loads(out)}


def test_runtime_import_loads_no_heavy_package() -> None:
    loaded = _modules_after("import edgeae_runtime")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_runtime_cli_loads_no_heavy_package() -> None:
    loaded = _modules_after("import edgeae_runtime.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_export_import_does_not_load_torch_or_host() -> None:
    loaded = _modules_after("import edgeae_export")
    assert not loaded & {"torch", "edgeae"}, loaded & {"torch", "edgeae"}


def test_host_cli_help_does_not_import_torch() -> None:
    loaded = _modules_after("import edgeae.cli")
    assert "torch" not in loaded
