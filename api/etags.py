"""Optimistic concurrency for versioned resources HR edits: the If-Match header names a version."""

from __future__ import annotations

import re

from flask import request
from flask_smorest import abort


def etag_header(etag: str) -> dict[str, str]:
    """The response header carrying a version's ETag, as ``expected_version`` reads it back."""
    return {"ETag": f'"{etag}"'}


def expected_version(name: str, read_path: str) -> int | None:
    """The version of ``name`` that If-Match names (ETags look like ``"<name>-v3"``); None for ``*``.

    Answers 428 when the header is missing (``read_path`` tells where to read the ETag) and 412
    when it names no version of ``name``.
    """
    if not request.headers.get("If-Match", "").strip():
        abort(
            428,
            message=f"send If-Match with the ETag you read (GET {read_path}); "
            "it keeps you from overwriting someone else's change",
        )
    if request.if_match.star_tag:
        return None
    pattern = re.compile(rf"^{re.escape(name)}-v(\d+)$")
    for tag in request.if_match.as_set(include_weak=True):
        found = pattern.match(tag)
        if found:
            return int(found.group(1))
    abort(412, message=f'If-Match names no version of {name}: expected an ETag like "{name}-v1"')
    return None  # unreachable: abort raises
