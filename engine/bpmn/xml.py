"""XML intake with entities, DTDs and network access switched off."""

from __future__ import annotations

from lxml import etree

MAX_FILE_BYTES = 5 * 1024 * 1024
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"

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
    """The document is malformed or uses a construct we refuse (DTD, entities)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_xml(content: bytes) -> etree._ElementTree:
    """Parse untrusted XML. Raises UnsafeXml naming the line for malformed or DTD-bearing input."""
    if len(content) > MAX_FILE_BYTES:
        raise UnsafeXml(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        tree = etree.fromstring(content, _PARSER).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise UnsafeXml(f"malformed XML: {exc.msg}", line) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("a DOCTYPE is not allowed: DTDs and entities are refused", 1)
    for element in tree.iter(f"{{{XINCLUDE_NS}}}*"):
        raise UnsafeXml("XInclude is not allowed: a bundle carries its content itself", element.sourceline)
    return tree
