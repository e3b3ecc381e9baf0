"""Parse untrusted DMN XML with entities, DTDs and network access switched off."""

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


def parse_dmn_xml(content: bytes):
    """Return the root element; raise ValueError(message, line) for malformed or DTD-bearing input."""
    if len(content) > MAX_FILE_BYTES:
        raise ValueError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", None)
    try:
        tree = etree.fromstring(content, _PARSER).getroottree()
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML: {exc.msg}", exc.lineno or None) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ValueError("a DOCTYPE is not allowed: DTDs and entities are refused", 1)
    return tree.getroot()
