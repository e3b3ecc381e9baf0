"""Parse untrusted XML (BPMN, DMN) with entities, DTDs and network access switched off.

One parser for every XML file a designer or HR uploads; engine/bpmn/xml.py adds the BPMN bundle's
own refusals on top.
"""

from __future__ import annotations

from lxml import etree

MAX_FILE_BYTES = 5 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


class UnsafeXml(ValueError):
    """The document is malformed or uses a construct we refuse (DTD, entities); ``line`` where known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message


def parse_untrusted(content: bytes) -> etree._ElementTree:
    """Parse ``content``; raise UnsafeXml naming the line for malformed, oversized or DTD-bearing input."""
    if len(content) > MAX_FILE_BYTES:
        raise UnsafeXml(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        tree = etree.fromstring(content, _PARSER).getroottree()
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"malformed XML: {exc.msg}", exc.lineno or None) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("a DOCTYPE is not allowed: DTDs and entities are refused", 1)
    return tree
