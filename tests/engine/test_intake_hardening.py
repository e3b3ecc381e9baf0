"""Hostile and malformed uploads: each is refused with the file and line, reads nothing, stores nothing."""

from __future__ import annotations

import pytest

from engine.errors import InvalidBundle
from engine.models import ProcessDefinition
from tests.engine.helpers import count, deploy

HEAD = '<?xml version="1.0"?>\n'
BPMN_OPEN = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
)
PROCESS = (
    '<bpmn:process id="p" isExecutable="true">'
    '<bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>'
    '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
    '<bpmn:endEvent id="e"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>'
    "</bpmn:process>"
)


def _refusal(session_factory, files: dict[str, bytes]) -> list[dict]:
    with pytest.raises(InvalidBundle) as refused:
        deploy(session_factory, files)
    assert count(session_factory, ProcessDefinition) == 0
    return refused.value.details


HOSTILE = {
    "xxe to a local file": (
        HEAD + '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + BPMN_OPEN + PROCESS.replace('id="s"', 'id="s" name="&xxe;"') + "</bpmn:definitions>"
    ),
    "billion laughs": (
        HEAD
        + '<!DOCTYPE d [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        + '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
        + BPMN_OPEN + PROCESS.replace('id="s"', 'id="s" name="&d;"') + "</bpmn:definitions>"
    ),
    "external DTD": HEAD + '<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">\n' + BPMN_OPEN + PROCESS
    + "</bpmn:definitions>",
    "xinclude of a local file": (
        HEAD + BPMN_OPEN
        + '\n<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'
        + PROCESS + "</bpmn:definitions>"
    ),
}  # fmt: skip


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_xml_is_refused_without_reading_anything(session_factory, content):
    (entry,) = _refusal(session_factory, {"evil.bpmn": content.encode()})
    assert entry["file"] == "evil.bpmn"
    assert isinstance(entry["line"], int)
    assert any(word in entry["message"] for word in ("DOCTYPE", "XInclude", "external entity")), entry
    assert "root:" not in str(entry)


def test_malformed_xml_names_file_and_line(session_factory):
    content = HEAD + BPMN_OPEN + "\n<bpmn:process id='p'>\n<bpmn:startEvent id='s'>\n</bpmn:process>\n"
    (entry,) = _refusal(session_factory, {"broken.bpmn": content.encode()})
    assert (entry["file"], entry["line"]) == ("broken.bpmn", 5)  # where the mismatched end tag is
    assert "malformed XML" in entry["message"]


def test_an_oversized_file_is_refused(session_factory):
    padding = "<!-- " + "x" * (6 * 1024 * 1024) + " -->"
    content = HEAD + BPMN_OPEN + padding + PROCESS + "</bpmn:definitions>"
    (entry,) = _refusal(session_factory, {"huge.bpmn": content.encode()})
    assert entry["file"] == "huge.bpmn"
    assert "larger than 5 MiB" in entry["message"]


def _process_with(body: str) -> bytes:
    return (
        HEAD
        + BPMN_OPEN
        + '<bpmn:process id="p" isExecutable="true">'
        + body
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_an_implicit_split_is_refused_on_its_element(session_factory):
    body = (
        '<bpmn:startEvent id="s"/><bpmn:task id="t"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="e1"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e2"/>'
    )
    (entry,) = _refusal(session_factory, {"split.bpmn": _process_with(body)})
    assert entry["element_id"] == "t"
    assert "implicit split" in entry["message"]


@pytest.mark.parametrize(
    ("element", "words"),
    [
        ('<bpmn:complexGateway id="cg"/>', "complex gateways"),
        ('<bpmn:dataStoreReference id="ds"/>', "data stores"),
        (
            '<bpmn:intermediateThrowEvent id="comp"><bpmn:compensateEventDefinition/>'
            "</bpmn:intermediateThrowEvent>",
            "compensation",
        ),
    ],
)  # fmt: skip
def test_unsupported_constructs_are_refused_with_the_reason(session_factory, element, words):
    flow = '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
    body = '<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>' + flow + element
    entries = _refusal(session_factory, {"odd.bpmn": _process_with(body)})
    assert any(words in e["message"] and e["line"] == 2 for e in entries), entries
