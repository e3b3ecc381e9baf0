"""DMN intake: hardened parsing and a report for every decision file that cannot be used.

SpiffWorkflow's DMN reader handles one decision table per file and crashes with AttributeError
on files with several decisions; here any such failure becomes a report line naming the file.
Full DMN with FEEL arrives with the rules issue (#5).
"""

from __future__ import annotations

from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine.bpmn.xml import UnsafeXml, parse_xml

DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
    "https://www.omg.org/spec/DMN/20240513/MODEL/",
)


class DecisionFileRefused(ValueError):
    """The decision file cannot be used; ``line`` points at the problem where known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def read_decisions(content: bytes, filename: str, parser: BpmnDmnParser | None = None) -> list[str]:
    """Parse a DMN file into ``parser`` (a fresh one if not given); return its decision ids.

    Raises DecisionFileRefused with a message a designer can act on.
    """
    try:
        tree = parse_xml(content)
    except UnsafeXml as exc:
        raise DecisionFileRefused(str(exc), exc.line) from None
    root = tree.getroot()
    namespace = root.tag.partition("}")[0].lstrip("{")
    if root.tag.rpartition("}")[2] != "definitions" or namespace not in DMN_NAMESPACES:
        raise DecisionFileRefused(
            "not a DMN file: the root element must be DMN <definitions>", root.sourceline
        )
    parser = parser or BpmnDmnParser()
    before = set(parser.dmn_parsers)
    try:
        parser.add_dmn_xml(root, filename=filename)
        added = [key for key in parser.dmn_parsers if key not in before]
        for key in added:
            parser.dmn_parsers[key].parse()
    except Exception as exc:  # the library's failures on unsupported DMN become a report
        raise DecisionFileRefused(
            f"this decision file cannot be used yet ({type(exc).__name__}: {exc}); approute reads "
            "one decision table per file until full DMN support arrives"
        ) from None
    return added
