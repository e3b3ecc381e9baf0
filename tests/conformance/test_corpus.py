"""The third-party corpus as a test: nothing crashes, and nothing stock SpiffWorkflow builds is lost.

Skipped, with the reason, only where ../shared/corpus is absent.
"""

from __future__ import annotations

import pytest

from tests.conformance.corpus import CORPUS, run

# Files stock SpiffWorkflow builds a spec for that approute refuses on purpose, with the reason
# its report gives: code the sandbox does not run.
_CAMUNDA_EXAMPLES = "camunda-bpm-examples/"
_SPIN = _CAMUNDA_EXAMPLES + "spin/dataformat-configuration-{}/src/main/resources/testProcess.bpmn"
DELIBERATE_REFUSALS = {
    _SPIN.format("global"): "javascript",
    _SPIN.format("in-process-application"): "javascript",
    _CAMUNDA_EXAMPLES + "scripttask/xslt-scripttask/src/main/resources/xslt-example.bpmn": "xslt",
    "sample-process-models/misc/test/tc-40/TC-4.0.bpmn": "imports are not allowed",
    "spiffworkflow-tests/tests/SpiffWorkflow/spiff/data/correlation_two_conversations.bpmn": (
        "imports are not allowed"
    ),
}


@pytest.fixture(scope="module")
def summary():
    if not CORPUS.is_dir():
        pytest.skip(f"the corpus is not at {CORPUS}")
    return run()


def test_every_corpus_file_was_tried(summary):
    kinds = [o.kind for o in summary.outcomes]
    assert kinds.count("bpmn") == 702
    assert kinds.count("dmn") == 261


def test_no_file_crashes_the_intake(summary):
    assert [(str(o.path), o.detail) for o in summary.crashed] == []


def test_every_refusal_comes_with_a_reason(summary):
    silent = [str(o.path) for o in summary.outcomes if o.ours == "refused" and not o.detail.strip()]
    assert silent == []


def test_nothing_stock_spiffworkflow_builds_is_lost_except_by_design(summary):
    lost = {str(o.path.relative_to(CORPUS)): o.detail for o in summary.regressions}
    assert set(lost) == set(DELIBERATE_REFUSALS)
    for path, reason in DELIBERATE_REFUSALS.items():
        assert reason in lost[path].lower(), (path, lost[path])
