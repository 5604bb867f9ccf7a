"""The NLU's foundations: the installed spaCy pipeline loads through Rasa's SpacyNLP, and
the training data covers the intent contract without leaking the held-out set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

CONTRACT_INTENTS = {
    "challenge": [
        "challenge_competition", "challenge_authority", "challenge_purpose", "challenge_communication",
        "challenge_funding", "challenge_culture_clash", "challenge_time",
    ],
    "knowledge": [
        "ask_challenges", "ask_benefits", "ask_key_principles", "ask_good_practice", "ask_definition",
        "ask_health_inequalities", "ask_case_study", "ask_sources",
    ],
    "conversation": [
        "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "ask_capabilities",
        "start_health_check", "inform", "out_of_scope",
    ],
}
MINIMUM_EXAMPLES = {"challenge": 30, "knowledge": 15, "conversation": 10}
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


def plain(example: str) -> str:
    """An example as a person would type it: entity markup removed, case and spacing folded."""
    return re.sub(r"\s+", " ", ANNOTATION.sub(r"\1", example)).strip().lower()


def examples_by_intent(paths) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        for block in (yaml.safe_load(Path(path).read_text()) or {}).get("nlu", []):
            if "intent" in block:
                lines = [l[2:] for l in block["examples"].splitlines() if l.startswith("- ")]
                found.setdefault(block["intent"], []).extend(lines)
    return found


TRAINING = examples_by_intent(sorted((ROOT / "data" / "nlu").glob("*.yml")))
HELD_OUT_FILES = [ROOT / "tests" / "heldout" / name for name in ("nlu_dev.yml", "nlu_dev2.yml", "nlu_dev3.yml", "nlu_dev4.yml", "nlu_dev5.yml", "nlu_dev6.yml", "nlu_dev7.yml", "nlu_dev8.yml", "nlu_dev9.yml", "nlu_dev10.yml", "nlu_dev11.yml", "messy_dev.yml", "messy_dev2.yml", "messy_dev3.yml", "messy_dev4.yml", "messy_dev5.yml", "messy_dev6.yml", "messy_dev7.yml", "nlu_test.yml", "nlu_test2.yml", "messy_test.yml", "messy_test2.yml")]


def labelled_examples(paths) -> set[tuple[str, str]]:
    """(label, example) for every example: intents, and synonyms, lookups and regexes as "kind:name"."""
    found = set()
    for path in paths:
        for block in (yaml.safe_load(Path(path).read_text()) or {}).get("nlu", []):
            kind = next(k for k in ("intent", "synonym", "lookup", "regex") if k in block)
            label = block[kind] if kind == "intent" else f"{kind}:{block[kind]}"
            found |= {(label, l.strip()[2:]) for l in block["examples"].splitlines() if l.strip().startswith("- ")}
    return found


def test_regrouping_the_training_files_kept_every_example() -> None:
    """data/nlu was regrouped by what each file holds (challenge_funding.yml, small_talk.yml, ...):
    every (label, example) pair from before the move is still there, under the same label."""
    import hashlib

    recorded = {l for l in (ROOT / "tests" / "fixtures" / "nlu_pairs_before_move.txt").read_text().splitlines()
                if l and not l.startswith("#")}
    now = {hashlib.sha1(f"{label}\t{text}".encode()).hexdigest()[:16]
           for label, text in labelled_examples(sorted((ROOT / "data" / "nlu").glob("*.yml")))}
    assert len(recorded) > 4000
    assert recorded <= now, f"{len(recorded - now)} training examples lost or relabelled by the move"


def test_leak_check_folds_punctuation_and_finds_near_duplicates() -> None:
    """The check the repo used before issue 14 compared with punctuation and reported 0 leaks."""
    from tools import leaks

    training = [("Alright?", "greet"), ("how do we stop partners bidding against each other", "challenge_competition")]
    found = leaks.leaks([("alright", "affirm"), ("How do we stop partners bidding against each other then", "x"),
                         ("what is the weather", "out_of_scope")], training)
    assert [e[0] for e in found["exact"]] == ["alright"]
    assert [c[0] for c in found["conflicts"]] == ["alright"]
    assert [n[0] for n in found["near"]] == ["How do we stop partners bidding against each other then"]


def test_near_duplicate_look_up_finds_what_scoring_every_sentence_finds() -> None:
    """The look-up scores only sentences sharing one of a query's rarest tokens (fast enough to
    check every set pairwise); it must find the same best match as scoring every sentence, also at
    lower thresholds where more matches exist."""
    import random

    from tools import leaks

    training = leaks.training_examples()
    index = leaks.Index(training)
    queries = [text for text, _ in random.Random(14).sample(training, 100)]
    queries += ["we need to sort this out now please", "how do we stop the rivalry then"]

    def scoring_every_sentence(text: str, threshold: float) -> float | None:
        n = leaks.normalised(text)
        tokens = frozenset(n.split())
        scores = [leaks.jaccard(tokens, index.tokens[c]) for c in index.tokens if c != n]
        best = max(scores, default=0.0)
        return best if best >= threshold else None

    found = 0
    for threshold in (0.8, 0.6, 0.5):
        for text in queries:
            near = index.near(text, threshold)
            assert (near and near[1]) == scoring_every_sentence(text, threshold), (text, threshold)
            found += near is not None
    assert found >= 15  # the comparison covered real matches, not only misses


def test_spacy_nlp_loads_the_installed_english_pipeline() -> None:
    """Rasa's SpacyNLP component loads the pipeline named in config.yml from site-packages."""
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    # config.yml names SpacyNLP's subclass that serves spaCy's tokens only (components/lemmas.py)
    [spacy_config] = [{**c, "name": "SpacyNLP"} for c in config["pipeline"] if c["name"].endswith("SpacyNLP") or c["name"].endswith("SpacyTokensNLP")]
    component = SpacyNLP.create(
        {**SpacyNLP.get_default_config(), **spacy_config},
        LocalModelStorage(ROOT / ".rasa" / "spacy-test"),
        Resource("spacy"),
        ExecutionContext(graph_schema=None, node_name="spacy"),  # type: ignore[arg-type]
    )
    nlp = component.provide().model
    assert nlp.meta["lang"] == "en"
    doc = nlp("Belfast City Council and the Health and Social Care Board can't agree on priorities")
    assert [t.lemma_ for t in nlp("meetings")] == ["meeting"]  # the lemmas the intent classifier uses
    assert "ORG" in {ent.label_ for ent in doc.ents}


@pytest.mark.parametrize("group", MINIMUM_EXAMPLES)
def test_every_contract_intent_has_enough_varied_examples(group: str) -> None:
    domain_intents = set(yaml.safe_load((ROOT / "domain.yml").read_text())["intents"])
    for intent in CONTRACT_INTENTS[group]:
        assert intent in domain_intents, f"{intent} missing from domain.yml"
        examples = {plain(e) for e in TRAINING.get(intent, [])}
        assert len(examples) >= MINIMUM_EXAMPLES[group], f"{intent}: {len(examples)} distinct examples"


def test_out_of_scope_covers_everyday_assistant_requests() -> None:
    examples = " ".join(plain(e) for e in TRAINING["out_of_scope"])
    assert len(TRAINING["out_of_scope"]) >= 100
    for topic in ("book", "bank", "train", "weather", "recipe", "printer", "schedule", "password", "joke"):
        assert topic in examples, f"out_of_scope has no example about {topic!r}"


def test_no_example_is_labelled_with_two_intents() -> None:
    """Inside the training data, and between training data and the held-out sets, one sentence
    (case, punctuation and whitespace folded: "alright" and "alright?") has one label."""
    from tools import leaks

    training = leaks.training_examples()
    assert not leaks.within_conflicts(training), leaks.within_conflicts(training)[:10]
    held_out = leaks.examples(HELD_OUT_FILES)
    assert not leaks.within_conflicts(held_out), leaks.within_conflicts(held_out)[:10]
    conflicts = leaks.leaks(held_out, training)["conflicts"]
    assert not conflicts, conflicts[:10]


def test_screening_a_writers_draft_drops_every_kind_of_leak(tmp_path: Path) -> None:
    """`tools.leaks --screen` is how a writer's sentences reach data/nlu: it drops a training
    sentence, a held-out sentence, a turn of a steered (not only a locked) practitioner conversation
    and a repeat inside the draft, keeps a new sentence, and writes Rasa NLU YAML under the draft's
    header (the twenty-sixth release's first CI failed on conversation turns a filter had missed)."""
    from rasa.shared.nlu.training_data.loading import load_data

    from tools import leaks

    training_sentence = leaks.training_examples()[0][0]
    held_out_sentence = leaks.examples([ROOT / "tests" / "heldout" / "nlu_dev8.yml"])[0][0]
    steered = yaml.safe_load((ROOT / "tests" / "practitioner" / "conversations_dev31.yml").read_text())["conversations"]
    training = leaks.Index(leaks.training_examples())  # first turns are trained on by design: take a later one
    steered_turn = next(t["user"] for c in steered for t in c["turns"][1:]
                        if len(t["user"].split()) > 4 and training.exact(t["user"]) is None and training.near(t["user"]) is None)
    fresh = "zebra crossings painted purple on tuesday mornings"
    draft = tmp_path / "draft.yml"
    draft.write_text(
        "# Drafted by a test.\n"
        'version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n'
        + "".join(f"    - {t}\n" for t in (training_sentence, held_out_sentence, steered_turn, fresh, fresh.upper() + "!"))
    )
    kept, dropped = leaks.screen(draft)
    assert kept == [(fresh, "out_of_scope")]
    assert [t for t, _, _ in dropped] == [training_sentence, held_out_sentence, steered_turn, fresh.upper() + "!"]
    out = tmp_path / "kept.yml"
    leaks.write_kept(draft, kept, out)
    assert out.read_text().startswith("# Drafted by a test.\n")
    assert [(m.get("text"), m.get("intent")) for m in load_data(str(out)).intent_examples] == [(fresh, "out_of_scope")]


def test_a_stricter_screen_drops_a_short_message_one_word_from_a_held_out_one(tmp_path: Path) -> None:
    """`--near 0.6` (short messages): a held-out sentence with one word left off is kept by the
    suite's 0.8 rule and dropped by the stricter one; an unrelated short message is kept by both."""
    from tools import leaks

    everything = leaks.Index(leaks.training_examples() + leaks.examples(sorted((ROOT / "tests" / "heldout").glob("*.yml")))
                             + leaks.practitioner_messages())
    three_words = [leaks.normalised(t).split() for t, _ in leaks.examples([ROOT / "tests" / "heldout" / "nlu_dev9.yml"])]
    shorter = next(" ".join(w[:2]) for w in three_words  # Jaccard 2/3 with the held-out sentence
                   if len(set(w)) == 3 and everything.exact(" ".join(w[:2])) is None and everything.near(" ".join(w[:2])) is None)
    fresh = "purple zebra crossings"
    draft = tmp_path / "draft.yml"
    draft.write_text('version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n' + "".join(f"    - {t}\n" for t in (shorter, fresh)))
    assert [t for t, _ in leaks.screen(draft)[0]] == [shorter, fresh]
    kept, dropped = leaks.screen(draft, near=0.6)
    assert [t for t, _ in kept] == [fresh]
    assert dropped[0][0] == shorter and dropped[0][2].startswith("near (0.")


@pytest.mark.parametrize("name", [f.name for f in HELD_OUT_FILES])
def test_held_out_sets_are_kept_apart_from_training_data(name: str) -> None:
    """Issue 14: no development or test sentence is a training sentence once case, punctuation and
    whitespace are folded, nor a near-duplicate of one (token-set Jaccard >= 0.8)."""
    from tools import leaks

    path = ROOT / "tests" / "heldout" / name
    assert path.exists(), f"{path} is missing"
    found = leaks.leaks(leaks.examples([path]), leaks.training_examples())
    print(f"\n[measured] {name} vs training: identical {len(found['exact'])}, near-duplicates {len(found['near'])}")
    assert not found["exact"], f"{name} sentences also in training data: {found['exact'][:10]}"
    assert not found["near"], f"{name} sentences near-duplicating training data: {found['near'][:10]}"


def test_development_and_test_sets_are_kept_apart() -> None:
    """The locked test sets share no sentence or near-duplicate with the development set, nor
    with each other."""
    from itertools import combinations

    from tools import leaks

    for a, b in combinations(HELD_OUT_FILES, 2):
        found = leaks.leaks(leaks.examples([b]), leaks.examples([a]))
        overlap = found["exact"] + found["near"]
        assert not overlap, f"{b.name} overlaps {a.name}: {overlap[:10]}"


def folded(text: str) -> str:
    """Case, punctuation and spacing folded, so "Example?" and "example" count as one sentence."""
    return " ".join(re.findall(r"[a-z0-9]+", plain(text)))


def test_practitioner_sets_are_kept_apart_from_training_data() -> None:
    """The practitioner conversations, practice questions and everyday requests (tests/practitioner/)
    were written apart from data/nlu; none of their messages may be a hand-written training sentence
    (the generated practitioner_first_turns.yml holds first messages of the sets by design)."""
    from tools import leaks
    from tools.first_turns import OUTPUT

    hand_written = examples_by_intent(sorted(p for p in (ROOT / "data" / "nlu").glob("*.yml") if p != OUTPUT))
    training = {folded(e) for examples in hand_written.values() for e in examples}
    messages = [m for m, _ in leaks.practitioner_messages()]
    assert len(messages) > 600
    # Short follow-ups ("why?", "example") are what everybody types: only longer sentences count as leaks.
    leaked = sorted({m for m in messages if len(folded(m).split()) > 3 and folded(m) in training})
    assert not leaked, f"practitioner-set sentences also in training data: {leaked[:10]}"


def test_practitioner_first_turns_are_generated_from_the_development_sets() -> None:
    """data/nlu/practitioner_first_turns.yml is what tools/first_turns.py makes of the sets now, so a
    set edited or added is trained on, and one kept apart never is."""
    from tools import first_turns

    assert first_turns.main(["--check"]) == 0, "run: .venv/bin/python -m tools.first_turns"


def test_conversations_kept_apart_share_no_sentence_with_the_first_turns_trained_on() -> None:
    """The locked, referee and newest practitioner sets measure language the classifier has not
    seen: none of their turns is one of the first messages trained on, nor a near-duplicate of one."""
    from tools import first_turns, leaks

    training = leaks.Index(leaks.examples([first_turns.OUTPUT]))
    for name in first_turns.HELD_APART:
        conversations = yaml.safe_load((first_turns.PRACTITIONER / name).read_text())["conversations"]
        turns = [t["user"] for c in conversations for t in c["turns"] if len(t["user"].split()) > 3]
        exact = [t for t in turns if training.exact(t)]
        near = [t for t in turns if len(t.split()) > 6 and training.near(t)]
        print(f"\n[measured] {name} vs the first messages trained on: identical {len(exact)}, near-duplicates {len(near)}")
        assert not exact and not near, (name, exact[:5], near[:5])


def test_asked_is_generated_from_the_development_sets() -> None:
    """data/knowledge/asked.yml is what tools/asked.py makes of the sets now."""
    from tools import asked

    assert asked.main(["--check"]) == 0, "run: .venv/bin/python -m tools.asked"


def test_a_message_is_learned_from_only_when_its_expectation_names_one_answer() -> None:
    from tools.asked import answer_expected

    assert answer_expected({"kind": "practice", "topic": "which_body"}) == ("practice", "which_body")
    assert answer_expected({"any": [{"kind": "practice", "topic": "which_body"}, {"kind": "clarify"}]}) == ("practice", "which_body")
    assert answer_expected({"kind": "advice", "challenge": "challenge_time"}) == ("challenges", "challenge_time")
    two_topics = {"any": [{"kind": "practice", "topic": "which_body"}, {"kind": "practice", "topic": "the_local_system"}]}
    assert answer_expected(two_topics) is None
    either = {"any": [{"kind": "practice", "topic": "small_organisations"}, {"kind": "advice", "challenge": "challenge_funding"}]}
    assert answer_expected(either) == ("practice_or_a_challenge", "small_organisations")
    assert answer_expected({"any": [{"kind": "advice", "challenge": "challenge_time"}, {"kind": "context", "stage": "forming"}]}) is None
    assert answer_expected({"kind": "advice", "challenges": ["challenge_time", "challenge_purpose"]}) is None
    assert answer_expected({"kind": "how"}) is None


def test_conversations_kept_apart_share_no_sentence_with_the_messages_learned_from() -> None:
    """The sets kept apart measure the practice classifiers (asked.yml) on messages they have not seen."""
    from tools import asked, first_turns, leaks

    learned = yaml.safe_load(asked.OUTPUT.read_text())
    training = leaks.Index([(text, answer) for part in learned.values() for answer, texts in part.items() for text in texts])
    for name in first_turns.HELD_APART:
        conversations = yaml.safe_load((first_turns.PRACTITIONER / name).read_text())["conversations"]
        turns = [t["user"] for c in conversations for t in c["turns"] if len(t["user"].split()) > 3]
        exact = [t for t in turns if training.exact(t)]
        near = [t for t in turns if len(t.split()) > 6 and training.near(t)]
        assert not exact and not near, (name, exact[:5], near[:5])


def test_a_first_turn_is_labelled_only_when_its_expectation_names_one_intent() -> None:
    from tools.first_turns import intent_expected

    assert intent_expected({"kind": "advice", "challenge": "challenge_time"}) == "challenge_time"
    assert intent_expected({"any": [{"kind": "practice", "topic": "which_body"}, {"kind": "practice", "topic": "the_local_system"}]}) == "ask_practice_question"
    assert intent_expected({"kind": "knowledge", "topic": "benefits"}) == "ask_benefits"
    assert intent_expected({"any": [{"kind": "practice", "topic": "small_organisations"}, {"kind": "advice", "challenge": "challenge_funding"}]}) is None
    assert intent_expected({"kind": "advice", "challenges": ["challenge_time", "challenge_purpose"]}) is None
    assert intent_expected({"kind": "smalltalk"}) is None
