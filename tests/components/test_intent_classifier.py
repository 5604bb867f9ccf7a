"""The project's intent classifier (components/intent_classifier.py) as Rasa uses it: trained
through its graph-component interface, persisted in a model storage, loaded back and asked."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import TfidfIntentClassifier

# A stand-in lemmatiser for the test's messages (the real pipeline's comes from spaCy).
LEMMAS = {"meetings": "meeting", "signs": "sign", "signed": "sign", "partners": "partner", "bosses": "boss"}
EXAMPLES = {
    "challenge_communication": ["too many meetings", "we never talk between meetings", "the meetings go nowhere"],
    "challenge_authority": ["nobody can sign off", "it all goes back to the bosses", "they can't sign anything"],
    "greet": ["hello", "hi there", "good morning"],
}


def message(text: str, intent: str | None = None) -> Message:
    tokens, offset = [], 0
    for word in text.split():
        start = text.index(word, offset)
        tokens.append(Token(word, start, lemma=LEMMAS.get(word.lower(), word.lower())))
        offset = start + len(word)
    data = {TEXT: text, TOKENS_NAMES[TEXT]: tokens}
    if intent:
        data["intent"] = intent
    return Message(data=data)


def context() -> ExecutionContext:
    return ExecutionContext(graph_schema=None, node_name="intent_classifier")  # type: ignore[arg-type]


def test_trained_persisted_and_loaded_it_ranks_the_right_intent_first(tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("intent_classifier")
    classifier = TfidfIntentClassifier.create(TfidfIntentClassifier.get_default_config(), storage, resource, context())
    classifier.train(TrainingData([message(t, i) for i, texts in EXAMPLES.items() for t in texts]))

    loaded = TfidfIntentClassifier.load(TfidfIntentClassifier.get_default_config(), storage, resource, context())
    # Unseen wordings: a plural only the lemma connects, and a greeting with a typo.
    asked = loaded.process([message("so many meeting"), message("the partner signed nothing"), message("helo")])
    assert [m.get("intent")["name"] for m in asked] == ["challenge_communication", "challenge_authority", "greet"]
    ranking = asked[0].get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "challenge_communication" and len(ranking) == 3
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"]) and abs(sum(r["confidence"] for r in ranking) - 1) < 1e-6


def test_a_model_without_a_trained_classifier_predicts_nothing_rather_than_failing(tmp_path: Path) -> None:
    loaded = TfidfIntentClassifier.load({}, LocalModelStorage(tmp_path), Resource("never_trained"), context())
    [asked] = loaded.process([message("too many meetings")])
    assert asked.get("intent") is None


def test_the_one_message_scorer_gives_scikit_learns_probabilities(tmp_path: Path) -> None:
    """process() computes the features and probabilities itself, for speed; they must be the
    numbers scikit-learn's vectorisers and LogisticRegression.predict_proba give, for known,
    partly known and wholly unknown wordings, with several intents and with two."""
    import numpy as np

    for examples in (EXAMPLES, {k: EXAMPLES[k] for k in ("greet", "challenge_authority")}):
        (tmp_path / str(len(examples))).mkdir()
        storage = LocalModelStorage(tmp_path / str(len(examples)))
        classifier = TfidfIntentClassifier.create({}, storage, Resource("intent_classifier"), context())
        classifier.train(TrainingData([message(t, i) for i, texts in examples.items() for t in texts]))
        asked = [
            message(t) for t in ("too many meetings", "the bosses signed nothing, again!", "zzz qqq", "", "Hi THERE hi there")
        ]
        expected = classifier.model["classifier"].predict_proba(classifier._features(asked))
        for msg, row in zip(classifier.process(asked), expected):
            ranking = {r["name"]: r["confidence"] for r in msg.get("intent_ranking")}
            assert np.allclose([ranking[str(name)] for name in classifier.model["classifier"].classes_], row, atol=1e-12)


def test_the_word_embedding_tokenizer_gives_the_tokenizers_packages_ids() -> None:
    """components/word_embeddings.py reads WordLlama's tokenizer config itself; these ids are what
    Hugging Face's `tokenizers` (0.23.3) gives for the same config: merges, a double space, an emoji
    as its UTF-8 bytes, an accented word."""
    from components.word_embeddings import TOKENIZER, LlamaTokenizer

    tokenizer = LlamaTokenizer.from_file(TOKENIZER)
    assert tokenizer.ids("the ICB and PCN wont sign off the pooled budget becuase of the chief exec") == [
        278,
        18340,
        29933,
        322,
        9609,
        29940,
        20668,
        1804,
        1283,
        278,
        772,
        29877,
        839,
        23562,
        1172,
        29884,
        559,
        310,
        278,
        9087,
        2279,
    ]
    assert tokenizer.ids("Our PCN  meetings 😀 café") == [
        8680,
        9609,
        29940,
        29871,
        5870,
        886,
        29871,
        243,
        162,
        155,
        131,
        274,
        28059,
    ]


def test_with_sentence_embeddings_the_scorer_gives_the_weighted_geometric_mean(tmp_path: Path) -> None:
    """dense_weight w: softmax((1 - w) log p_tfidf + w log p_dense), each p as scikit-learn gives it;
    and the model, embeddings included, survives being persisted and loaded."""
    import numpy as np

    config = {"dense_weight": 0.3, "dense_C": 30.0}
    for examples in (EXAMPLES, {k: EXAMPLES[k] for k in ("greet", "challenge_authority")}):
        storage, resource = LocalModelStorage(tmp_path / str(len(examples))), Resource("intent_classifier")
        (tmp_path / str(len(examples))).mkdir()
        classifier = TfidfIntentClassifier.create(config, storage, resource, context())
        classifier.train(TrainingData([message(t, i) for i, texts in examples.items() for t in texts]))
        loaded = TfidfIntentClassifier.load(config, storage, resource, context())
        asked = [message(t) for t in ("too many meetings", "the bosses signed nothing, again!", "zzz qqq", "", "Hi THERE")]
        dense = classifier.model["dense"]
        log_p = 0.7 * np.log(classifier.model["classifier"].predict_proba(classifier._features(asked)))
        log_p += 0.3 * np.log(dense["classifier"].predict_proba(dense["embedder"].embed([m.get(TEXT) for m in asked])))
        expected = np.exp(log_p) / np.exp(log_p).sum(axis=1, keepdims=True)
        for msg, row in zip(loaded.process(asked), expected):
            ranking = {r["name"]: r["confidence"] for r in msg.get("intent_ranking")}
            assert np.allclose([ranking[str(name)] for name in dense["classifier"].classes_], row, atol=1e-9)


def test_where_the_problem_starts_after_a_greeting_and_who_the_person_is() -> None:
    from components.intent_classifier import after_introduction

    told = "The Trust's district nurses and our practice nurses work as two teams with two sets of rules."
    for opening in (
        "Practice manager at a GP surgery in east Belfast. ",
        "I work in NHS commissioning in north Wales. ",
        "Morning. I'm a commissioner at an ICB. ",
        "hiya. youth worker in Newport. ",
        # ...and where they sit, after who they are
        "Deputy head at a secondary in Leicester. We're in a mental health partnership with CAMHS and a local charity. ",
    ):
        assert (opening + told)[after_introduction(opening + told) :] == told
    # Not an introduction: a sentence that tells something, a single sentence, too little after it.
    for text in (
        "Every time we meet in the hall nobody has read the papers. " + told,
        "I'm a commissioner at an ICB and the trusts keep undercutting each other on every bid we run.",
        "I'm a pharmacist. Any tips?",
        "I'm a pharmacist but why?",  # too little after "but"
        "the council keeps cancelling but we never find out why until the day",  # no introduction before "but"
    ):
        assert after_introduction(text) == 0, text
    # Who they are, then "but" and the problem in the same sentence.
    text = "I'm the partnership lead but I have no say over any of the staff involved"
    assert text[after_introduction(text) :] == "I have no say over any of the staff involved"


def test_a_problem_told_after_an_introduction_is_read_without_it(tmp_path: Path, monkeypatch) -> None:
    """An introduction's words pull the reading towards small talk; the problem told after it
    decides, unless the whole message is already read surely as a challenge."""
    import components.intent_classifier as module

    storage, resource = LocalModelStorage(tmp_path), Resource("intent_classifier")
    introductions = [
        "hello good morning i am a practice manager at a surgery in town",
        "hi there i am the practice manager at the surgery in town",
    ]
    examples = {**EXAMPLES, "greet": [*EXAMPLES["greet"], *introductions]}
    classifier = TfidfIntentClassifier.create(TfidfIntentClassifier.get_default_config(), storage, resource, context())
    classifier.train(TrainingData([message(t, i) for i, texts in examples.items() for t in texts]))
    text = "Hello, good morning, I am a practice manager at a surgery in town. Then it all goes back to the bosses and we wait and wait."
    [read] = classifier.process([message(text)])
    assert read.get("intent")["name"] == "challenge_authority"
    monkeypatch.setattr(module, "after_introduction", lambda text: 0)
    [whole] = classifier.process([message(text)])
    assert whole.get("intent")["name"] == "greet"
    # A sure challenge is left as it is.
    sure = "Hello, I am a practice manager. Nobody can sign off, they can't sign anything, it all goes back to the bosses."
    monkeypatch.undo()
    [kept] = classifier.process([message(sure)])
    monkeypatch.setattr(module, "after_introduction", lambda text: 0)
    [whole] = classifier.process([message(sure)])
    assert kept.get("intent") == whole.get("intent") and whole.get("intent")["name"] == "challenge_authority"


def test_a_problem_told_after_an_introduction_read_as_who_they_are_decides(tmp_path: Path, monkeypatch) -> None:
    """Read as "inform" (who they are) however surely, a long message whose problem follows the
    introduction is read by that problem."""
    import components.intent_classifier as module

    storage, resource = LocalModelStorage(tmp_path), Resource("intent_classifier")
    introductions = [
        "i am a practice manager at a surgery in town",
        "i am the practice manager at the surgery in the town centre",
        "practice manager at a surgery in town",
    ]
    examples = {**EXAMPLES, "inform": introductions}
    classifier = TfidfIntentClassifier.create(TfidfIntentClassifier.get_default_config(), storage, resource, context())
    classifier.train(TrainingData([message(t, i) for i, texts in examples.items() for t in texts]))
    text = "I am the practice manager at the surgery in the town centre. Then at the surgery it goes back to the bosses."
    monkeypatch.setattr(module, "after_introduction", lambda text: 0)
    [whole] = classifier.process([message(text)])
    assert whole.get("intent")["name"] == "inform"
    monkeypatch.undo()
    [read] = classifier.process([message(text)])
    assert read.get("intent")["name"] == "challenge_authority"
