"""The launcher trains again exactly when something training reads has changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server import launch


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in launch.TRAINING_INPUTS:
        source = launch.ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    monkeypatch.setattr(launch, "ROOT", tmp_path)
    return tmp_path


def test_a_change_to_a_custom_components_code_needs_a_new_model(project: Path) -> None:
    before = launch.training_fingerprint()
    classifier = project / "components" / "intent_classifier.py"
    classifier.write_text(classifier.read_text() + "\n# changed\n")
    assert launch.training_fingerprint() != before


def test_python_bytecode_and_the_knowledge_content_do_not(project: Path) -> None:
    before = launch.training_fingerprint()
    (project / "components" / "__pycache__").mkdir(exist_ok=True)
    (project / "components" / "__pycache__" / "intent_classifier.cpython-310.pyc").write_bytes(b"\x00bytecode")
    (project / "data" / "knowledge").mkdir(exist_ok=True)
    (project / "data" / "knowledge" / "advice.yml").write_text("changed: content\n")
    assert launch.training_fingerprint() == before
