"""XML intake for bundles: the hardened parser of rules.safe_xml, and no XInclude."""

from __future__ import annotations

from lxml import etree

from rules.safe_xml import MAX_FILE_BYTES, UnsafeXml, parse_untrusted

__all__ = ["MAX_FILE_BYTES", "UnsafeXml", "parse_xml"]

XINCLUDE_NS = "http://www.w3.org/2001/XInclude"


def parse_xml(content: bytes) -> etree._ElementTree:
    """Parse untrusted XML. Raises UnsafeXml naming the line for malformed or DTD-bearing input."""
    tree = parse_untrusted(content)
    for element in tree.iter(f"{{{XINCLUDE_NS}}}*"):
        raise UnsafeXml("XInclude is not allowed: a bundle carries its content itself", element.sourceline)
    return tree
