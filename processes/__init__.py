"""The bundles approute ships: one folder per process key. Content, not code."""

from __future__ import annotations

from pathlib import Path

PROCESS_DIR = Path(__file__).resolve().parent
BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json")


def list_keys() -> list[str]:
    """The process keys shipped with approute, one per bundle folder."""
    return sorted(p.name for p in PROCESS_DIR.iterdir() if p.is_dir() and any(p.glob("*.bpmn")))


def bundle_files(folder: Path) -> dict[str, bytes]:
    """The files of a bundle folder (BPMN, DMN and forms, searched recursively) by name."""
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in BUNDLE_SUFFIXES:
            files[path.name] = path.read_bytes()
    return files
