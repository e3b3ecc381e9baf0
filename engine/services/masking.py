"""Sensitive form fields: finding them in a bundle's schemas and masking them in data shown to people.

A form's JSON Schema marks a property ``"x-sensitive": true`` (a sick-leave reason, a salary).
The sensitive paths of a definition are the union over every form of its bundle, so a value
entered on one form stays masked wherever the request's data is shown. Who may see the real
values is decided in ``engine.services.visibility``; this module only does the masking.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.models import ProcessInstance, User
from engine.services import audit, visibility
from engine.services.definitions import DefinitionSnapshot, snapshot

MASK = "*****"
SENSITIVE_KEYWORD = "x-sensitive"
ANY_ITEM = "[]"  # a path step meaning "every element of the array"

Path = tuple[str, ...]

# Keywords whose sub-schemas describe the same object as their parent (so their properties count).
_SAME_LEVEL = ("allOf", "anyOf", "oneOf")
_SAME_LEVEL_SINGLE = ("if", "then", "else", "not")

_cache: dict[uuid.UUID, frozenset[Path]] = {}
_cache_lock = threading.Lock()


def schema_sensitive_paths(schema: Any) -> set[Path]:
    """The paths of every property of ``schema`` marked ``"x-sensitive": true``.

    Nested objects add their property names to the path; array items add ``[]``. Sub-schemas
    under allOf/anyOf/oneOf/if/then/else, ``$defs`` references within the file (``#/...``) and
    dependentSchemas are followed; a recursive schema is followed down to its first repeat.
    """
    found: set[Path] = set()
    _walk(schema, (), schema, found, frozenset())
    return found


def _walk(node: Any, path: Path, root: Any, found: set[Path], active_refs: frozenset[str]) -> None:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#") and ref not in active_refs:
        # A reference is followed once per chain, so a recursive schema ends at its first repeat.
        _walk(_resolve(root, ref), path, root, found, active_refs | {ref})
    for name, sub in _mapping(node, "properties").items():
        if isinstance(sub, dict) and sub.get(SENSITIVE_KEYWORD) is True:
            found.add((*path, name))
        else:
            _walk(sub, (*path, name), root, found, active_refs)
    for keyword in _SAME_LEVEL:
        subs = node.get(keyword)
        for sub in subs if isinstance(subs, list) else ():
            _walk(sub, path, root, found, active_refs)
    for keyword in _SAME_LEVEL_SINGLE:
        _walk(node.get(keyword), path, root, found, active_refs)
    for sub in _mapping(node, "dependentSchemas").values():
        _walk(sub, path, root, found, active_refs)
    items = node.get("items")
    if isinstance(items, dict):
        if items.get(SENSITIVE_KEYWORD) is True:
            found.add((*path, ANY_ITEM))
        else:
            _walk(items, (*path, ANY_ITEM), root, found, active_refs)


def _mapping(node: dict, keyword: str) -> dict:
    value = node.get(keyword)
    return value if isinstance(value, dict) else {}


def _resolve(root: Any, ref: str) -> Any:
    """The sub-schema a local JSON pointer (``#/$defs/x``) names, or None."""
    node = root
    pointer = ref.lstrip("#").strip("/")
    for raw in pointer.split("/") if pointer else ():
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def definition_sensitive_paths(definition: DefinitionSnapshot) -> frozenset[Path]:
    """The union of the sensitive paths of every form in the definition's bundle (cached per version)."""
    cached = _cache.get(definition.id)
    if cached is not None:
        return cached
    paths: set[Path] = set()
    for schema in definition.forms.values():
        paths |= schema_sensitive_paths(schema)
    result = frozenset(paths)
    with _cache_lock:
        if len(_cache) > 1024:
            _cache.clear()
        _cache[definition.id] = result
    return result


def present_paths(data: Any, paths: Iterable[Path]) -> list[str]:
    """The dotted names of the sensitive fields that hold a value in ``data``, sorted."""
    names = set()
    for path in paths:
        if any(True for _ in _locate(data, path)):
            names.add(".".join(path))
    return sorted(names)


def mask_data(data: Any, paths: Iterable[Path]) -> Any:
    """A copy of ``data`` with every value at a sensitive path replaced by ``MASK``; ``data`` is untouched."""
    paths = list(paths)
    if not paths or not isinstance(data, dict):
        return data
    masked = copy.deepcopy(data)
    for path in paths:
        for container, key in _locate(masked, path):
            container[key] = MASK
    return masked


def sensitive_values(data: Any, paths: Iterable[Path]) -> list[str]:
    """The text of each sensitive value in ``data``, to scrub it from free-text messages.

    Values shorter than three characters are left out: masking every "1" or "no" in an error
    message would hide more than it protects.
    """
    values: set[str] = set()
    for path in paths:
        for container, key in _locate(data, path):
            values |= {text for text in _leaf_texts(container[key]) if len(text) >= 3}
    # Longest first, so a value that contains another is replaced whole.
    return sorted(values, key=len, reverse=True)


def scrub_text(text: str | None, values: Iterable[str]) -> str | None:
    """``text`` with every occurrence of ``values`` replaced by ``MASK``."""
    if not text:
        return text
    for value in values:
        text = text.replace(value, MASK)
    return text


def restore_masked(submitted: Any, stored: Any, paths: Iterable[Path]) -> Any:
    """Put the stored value back wherever a submission carries ``MASK`` in a sensitive field.

    An approver who sees a field masked and submits the form as shown must not overwrite the
    stored value with asterisks. A different value is a deliberate change and is kept. Returns a
    new payload; ``submitted`` is untouched.
    """
    paths = list(paths)
    if not paths or not isinstance(submitted, dict) or not isinstance(stored, dict):
        return submitted
    result = copy.deepcopy(submitted)
    for path in paths:
        for container, key, original in _pairs(result, stored, path):
            if container[key] == MASK:
                container[key] = copy.deepcopy(original)
    return result


def _locate(data: Any, path: Path) -> Iterator[tuple[Any, Any]]:
    """Yield (container, key) for every place in ``data`` the path reaches and that holds a value."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == ANY_ITEM:
        if isinstance(data, list):
            for index, item in enumerate(data):
                if rest:
                    yield from _locate(item, rest)
                else:
                    yield data, index
        return
    if isinstance(data, dict) and head in data:
        if rest:
            yield from _locate(data[head], rest)
        else:
            yield data, head


def _pairs(submitted: Any, stored: Any, path: Path) -> Iterator[tuple[Any, Any, Any]]:
    """Like ``_locate`` on ``submitted``, paired with the value at the same place in ``stored``."""
    head, rest = path[0], path[1:]
    if head == ANY_ITEM:
        if isinstance(submitted, list) and isinstance(stored, list):
            for index, item in enumerate(submitted[: len(stored)]):
                if rest:
                    yield from _pairs(item, stored[index], rest)
                else:
                    yield submitted, index, stored[index]
        return
    if isinstance(submitted, dict) and isinstance(stored, dict) and head in submitted and head in stored:
        if rest:
            yield from _pairs(submitted[head], stored[head], rest)
        else:
            yield submitted, head, stored[head]


def _leaf_texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaf_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaf_texts(item)
    elif isinstance(value, bool) or value is None:
        return
    else:
        yield str(value)


@dataclass(frozen=True)
class InstanceView:
    """How one viewer sees one instance's data: which fields are sensitive and whether they are masked."""

    instance: ProcessInstance
    paths: frozenset[Path]
    masked: bool

    def data(self, data: Any) -> Any:
        """``data`` as this viewer may see it."""
        return mask_data(data, self.paths) if self.masked else data

    def text(self, text: str | None) -> str | None:
        """Free text (an error message) with the instance's sensitive values scrubbed, if masked."""
        if not self.masked or not text:
            return text
        return scrub_text(text, sensitive_values(self.instance.data, self.paths))


def view_of(session: Session, viewer: User, instance: ProcessInstance) -> InstanceView:
    """The view ``viewer`` has of ``instance``'s data (see ``visibility.sees_sensitive_data``)."""
    paths = definition_sensitive_paths(snapshot(session, instance.definition_id))
    return InstanceView(
        instance, paths, masked=bool(paths) and not visibility.sees_sensitive_data(viewer, instance)
    )


def shown_data(
    session: Session, viewer: User, instance: ProcessInstance, *, task_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """The instance's data as ``viewer`` may see it, accounting for reads of sensitive fields.

    When the data shows sensitive fields unmasked to someone other than the person it is about
    (HR, an admin), an ``instance.sensitive_read`` audit event names the fields (never their
    values), as 152-ФЗ asks (hr-domain §6, P-04).
    """
    view = view_of(session, viewer, instance)
    subject = visibility.subject_id(instance)
    if not view.masked and subject != viewer.id:
        fields = present_paths(instance.data, view.paths)
        if fields:
            audit.record(
                session,
                "instance.sensitive_read",
                actor=viewer,
                instance_id=instance.id,
                task_id=task_id,
                subject_id=subject,
                fields=fields,
            )
    return view.data(instance.data)
