"""The dependency rules of ../shared/DESIGN.md, enforced by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "framework-free KEPT" in result.stdout  # the contracts were read, not silently absent
    assert "0 broken" in result.stdout


def test_only_engine_imports_spiffworkflow():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("api", "worker", "admin_ui", "rules", "forms", "processes")
        for path in (ROOT / folder).rglob("*.py")
        if "SpiffWorkflow" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
