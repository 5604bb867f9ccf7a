"""The launcher trains again exactly when something training reads has changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tmp_path / name)
    monkeypatch.setattr(launch, "ROOT", tmp_path)
    return tmp_path


def test_a_change_to_a_custom_components_code_needs_a_new_model(project: Path) -> None:
    before = launch.training_fingerprint()
    classifier = project / "components" / "intent_classifier.py"
    classifier.write_text(classifier.read_text() + "\n# changed\n")
    assert launch.training_fingerprint() != before


def test_a_change_to_a_word_list_the_components_import_needs_one_too(project: Path) -> None:
    """The lemma view reads the chat spellings in actions/vocabulary.py: "wat" is read as "what"."""
    before = launch.training_fingerprint()
    vocabulary = project / "actions" / "vocabulary.py"
    vocabulary.write_text(vocabulary.read_text().replace('"wat": "what",', ""))
    assert launch.training_fingerprint() != before


def test_every_actions_module_a_component_imports_is_a_training_input() -> None:
    imported = {
        f"actions/{name}.py"
        for path in (launch.ROOT / "components").glob("*.py")
        for name in re.findall(r"^from actions\.(\w+) import", path.read_text(), re.MULTILINE)
    }
    assert imported and imported <= set(launch.COMPONENT_WORD_LISTS)


def test_python_bytecode_and_the_knowledge_content_do_not(project: Path) -> None:
    before = launch.training_fingerprint()
    (project / "components" / "__pycache__").mkdir(exist_ok=True)
    (project / "components" / "__pycache__" / "intent_classifier.cpython-310.pyc").write_bytes(b"\x00bytecode")
    (project / "data" / "knowledge").mkdir(exist_ok=True)
    (project / "data" / "knowledge" / "advice.yml").write_text("changed: content\n")
    assert launch.training_fingerprint() == before


def test_training_reads_only_what_the_models_hash_covers(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A draft NLU file elsewhere under data/ is neither in the hash nor trained on (`rasa train`
    alone reads every YAML file under data/, so such a draft was trained on unseen by the hash)."""
    from rasa.shared.importers.importer import TrainingDataImporter

    before = launch.training_fingerprint()
    draft = project / "data" / "drafts" / "more.yml"
    draft.parent.mkdir()
    draft.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - a draft sentence nobody trained on\n')

    monkeypatch.setattr(launch, "MODELS", project / "models")  # never the real models/
    (project / "models").mkdir()
    commands = []
    monkeypatch.setattr(launch.subprocess, "run", lambda command, **kwargs: commands.append((command, kwargs)))
    launch.train()
    (command, kwargs), = commands
    given = command[command.index("--data") + 1 : command.index("--out")]
    assert given == [str(p) for p in launch.TRAINING_DATA] and kwargs["cwd"] == project

    importer = TrainingDataImporter.load_from_config(
        str(project / "config.yml"), str(project / "domain.yml"), [str(project / p) for p in given]
    )
    texts = {m.get("text") for m in importer.get_nlu_data().training_examples}
    assert "a draft sentence nobody trained on" not in texts
    assert texts, "the named data was read"
    everything = TrainingDataImporter.load_from_config(str(project / "config.yml"), str(project / "domain.yml"), [str(project / "data")])
    assert "a draft sentence nobody trained on" in {m.get("text") for m in everything.get_nlu_data().training_examples}
    assert launch.training_fingerprint() == before


REAL_RUN = subprocess.run  # kept: the training test below replaces subprocess.run


def rasa_reports_usage(env: dict[str, str], home: Path) -> bool:
    """What Rasa itself decides about usage reporting under `env` (with a fresh home directory)."""
    code = "import rasa.telemetry as t; print(t.initialize_telemetry())"
    result = REAL_RUN([str(launch.VENV_BIN / "python"), "-c", code], env={**env, "HOME": str(home)},
                            capture_output=True, text=True, check=True, timeout=120)
    return result.stdout.strip().splitlines()[-1] == "True"


def test_rasa_reports_no_usage_from_the_launchers_servers_or_trainings_even_outside_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Makefile turns Rasa's usage reporting off; `python -m server.launch` run by hand must too
    (privacy: nothing leaves the machine). Asked of Rasa's own telemetry switch, which is on by default."""
    monkeypatch.delenv("RASA_TELEMETRY_ENABLED", raising=False)
    assert rasa_reports_usage(dict(os.environ), tmp_path / "plain")  # Rasa's default: it reports
    servers_report = rasa_reports_usage(launch.server_env(), tmp_path / "servers")  # (a failure prints no secret)
    assert not servers_report

    trainings: list[dict[str, str]] = []
    monkeypatch.setattr(launch, "model_path", lambda: tmp_path / "models" / "advisor-x.tar.gz")
    monkeypatch.setattr(launch, "MODELS", tmp_path / "models")
    monkeypatch.setattr(launch, "ROOT", tmp_path)
    monkeypatch.setattr(launch.subprocess, "run", lambda *args, **kwargs: trainings.append(kwargs["env"]))
    launch.train()
    training_reports = bool(trainings) and rasa_reports_usage(trainings[0], tmp_path / "training")
    assert trainings and not training_reports
    # Someone who wants to report can still say so.
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    asked_reports = rasa_reports_usage(launch.server_env(), tmp_path / "asked")
    assert asked_reports
