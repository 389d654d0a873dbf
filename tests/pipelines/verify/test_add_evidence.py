""":func:`pipelines.verify.evidence.add_evidence`: files stored by hash, a history event."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipelines.errors import EvidenceError
from pipelines.verify.evidence import add_evidence, evidence_folder


def test_a_workspace_without_a_folder_is_refused(tmp_path):
    ws = SimpleNamespace(location="postgresql://db/lvdun")
    with pytest.raises(EvidenceError, match="没有存放证据文件的文件夹"):
        evidence_folder(ws)
    with pytest.raises(EvidenceError, match="没有存放证据文件的文件夹"):
        add_evidence(ws, "L1", [tmp_path / "a.jpg"], by="x")


def test_evidence_folder_is_beside_the_workspace(tmp_path):
    ws = SimpleNamespace(path=tmp_path / "w.gpkg", location=str(tmp_path / "w.gpkg"))
    assert evidence_folder(ws) == tmp_path / "w_evidence"
