"""Retrieval over the real knowledge content (actions/retrieval.py), loaded into a temporary store.

The questions here are written for these tests, apart from tests/practitioner/ (which
tools/retrieval_eval.py uses to choose the method and threshold)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from actions import retrieval
from actions.retrieval import ANSWER_THRESHOLD, Document, Retriever, content_words, documents, retriever_for
from actions.store.knowledge import Knowledge
from tools.retrieval_eval import load_knowledge


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()  # the real content, as tools/retrieval_eval.py measures it


@pytest.fixture(scope="module")
def retriever(knowledge: Knowledge) -> Retriever:
    built = retriever_for(knowledge)
    built.learned.wait()  # as the action server does before serving
    return built


def keys(hits: list[tuple[Document, float]]) -> list[str]:
    return [doc.key for doc, _ in hits]


def test_documents_cover_practice_advice_and_passages_but_not_references(knowledge: Knowledge) -> None:
    docs = documents(knowledge)
    by_key = {doc.key: doc for doc in docs}
    assert len(by_key) == len(docs), "document keys are unique"
    assert {doc.kind for doc in docs} == {"practice", "advice", "passage"}
    assert [d.key for d in docs if d.kind == "practice"] == [f"practice:{p}" for p in knowledge.practice]
    assert len(knowledge.practice) == 22
    advice_ids = {a.id for items in knowledge.advice_by_challenge.values() for a in items}
    assert {d.id for d in docs if d.kind == "advice"} == advice_ids
    references = {p.id for p in knowledge.topics["references"].passages}
    passage_ids = {d.id for d in docs if d.kind == "passage"}
    assert passage_ids and not passage_ids & references
    assert all(knowledge.passages[i].text != knowledge.passages[i].title for i in passage_ids)

    practice = knowledge.practice["terms_of_reference"]
    text = by_key["practice:terms_of_reference"].text
    assert all(part in text for part in (practice.title, *practice.questions, practice.answer, *practice.steps))
    item = knowledge.advice("authority_decision_log")
    text = by_key["advice:authority_decision_log"].text
    assert item.how and item.example and item.why
    assert all(part in text for part in (item.title, item.text, *item.how, item.example, item.why))
    assert by_key["passage:benefit_efficiency"].title == knowledge.passages["benefit_efficiency"].title


@pytest.mark.parametrize(
    "question, expected",
    [
        ("the police won't share information with us", "practice:information_sharing"),
        ("how do we wind down a partnership when the funding stops", "practice:ending_well"),
        ("we want to split the grant money between our two charities", "practice:partnership_agreement"),
    ],
)
def test_a_question_in_new_words_finds_its_entry_in_the_top_two(retriever: Retriever, question: str, expected: str) -> None:
    hits = retriever.search(question, k=2)
    assert expected in keys(hits), hits
    assert hits[0][1] >= ANSWER_THRESHOLD


def test_template_for_terms_of_reference_is_the_top_answer(retriever: Retriever) -> None:
    (top, score), _ = retriever.search("template for terms of reference", k=2)
    assert top.key == "practice:terms_of_reference"
    assert score >= ANSWER_THRESHOLD


def test_a_topic_the_message_names_outranks_one_it_only_resembles(retriever: Retriever) -> None:
    # "young people involved" resembles involving the community; "the names of" names information sharing.
    (top, score), _ = retriever.search("can we give the charity the names of the young people involved?", k=2)
    assert top.key == "practice:information_sharing"
    assert score >= ANSWER_THRESHOLD


@pytest.mark.parametrize(
    "request_text",
    ["what's the weather in Leeds tomorrow", "play the next song", "turn off the kitchen lights", "order a pizza"],
)
def test_an_everyday_request_scores_below_the_answer_threshold(retriever: Retriever, request_text: str) -> None:
    (_, score), _ = retriever.search(request_text, k=2)
    assert score < ANSWER_THRESHOLD


def test_results_are_best_first_with_k_results(knowledge: Knowledge) -> None:
    retriever = Retriever.build(documents(knowledge), method="tfidf")
    hits = retriever.search("how do we agree a pooled budget with the council", k=5)
    assert len(hits) == 5
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(score, float) for score in scores)
    assert [s for _, s in retriever.search("   ", k=2)] == [0.0, 0.0]
    assert retriever.search("anything", k=0) == []


def test_the_hybrid_ranks_with_the_embeddings_and_keeps_the_tfidf_scores(knowledge: Knowledge) -> None:
    # The answer thresholds are set on TF-IDF scores; the embeddings only reorder the documents.
    # (Without the practice classifier, which reorders the practice questions among themselves.)
    plain = [dataclasses.replace(d, examples=()) for d in documents(knowledge)]
    tfidf = Retriever.build(plain, method="tfidf")
    hybrid = Retriever.build(plain, method="hybrid")
    question = "the two food banks behave like rivals rather than partners"
    tfidf_scores = dict(zip([d.key for d in tfidf.documents], tfidf.scores(question), strict=True))
    hits = hybrid.search(question, k=2)
    assert all(score == pytest.approx(tfidf_scores[doc.key]) for doc, score in hits)
    # TF-IDF puts information sharing second (it shares "partners"); with the embeddings both are rivalry advice.
    assert "practice:information_sharing" in keys(tfidf.search(question, k=2))
    assert all(key.startswith("advice:competition_") for key in keys(hits)), keys(hits)
    assert [s for _, s in hybrid.search("   ", k=2)] == [0.0, 0.0]


def test_the_hybrid_without_the_embeddings_installed_answers_as_tfidf(
    knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed() -> None:
        raise FileNotFoundError("WordLlama's embeddings are not installed")

    monkeypatch.setattr(retrieval, "_embedder", not_installed)
    hybrid = Retriever.build(documents(knowledge), method="hybrid")
    tfidf = Retriever.build(documents(knowledge), method="tfidf")
    question = "the two food banks behave like rivals rather than partners"
    assert keys(hybrid.search(question, k=3)) == keys(tfidf.search(question, k=3))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("how?", []),
        ("How", []),
        ("why does that matter", []),
        ("can you give me an example of that please", []),
        ("what does it mean?", []),
        ("ok and what are the steps", []),
        ("how do I write a terms of reference?", ["write", "terms", "reference"]),
        ("Why won't the ICB share data?", ["icb", "share", "data"]),
    ],
)
def test_content_words_tell_a_bare_follow_up_from_a_question(text: str, expected: list[str]) -> None:
    assert content_words(text) == expected


@pytest.mark.parametrize("method", retrieval.METHODS)
def test_every_method_runs(knowledge: Knowledge, method: str) -> None:
    built = Retriever.build(documents(knowledge), method=method)
    hits = built.search("how do we get local residents to have a say in the partnership", k=3)
    assert len(hits) == 3 and all(np.isfinite(score) for _, score in hits)
    if method != "hybrid":  # the hybrid's order mixes in the embeddings; its scores are TF-IDF's
        assert hits[0][1] >= hits[1][1] >= hits[2][1]
    assert built.method == method and built.threshold == retrieval.THRESHOLDS[method]


def test_an_unknown_method_is_refused(knowledge: Knowledge) -> None:
    with pytest.raises(ValueError, match="unknown retrieval method"):
        Retriever.build(documents(knowledge), method="word2vec")


def test_retriever_is_built_once_per_content_version(knowledge: Knowledge) -> None:
    first = retriever_for(knowledge)
    assert retriever_for(knowledge) is first
    assert first.method == retrieval.DEFAULT_METHOD and first.threshold == ANSWER_THRESHOLD
    newer = dataclasses.replace(knowledge, digest="another-content-version")
    assert retriever_for(newer) is not first
    assert retriever_for(newer) is retriever_for(newer)


@pytest.mark.parametrize(
    "text,topic",
    [
        ("and the project officer who ran the whole thing has just handed in her notice", "practice:staff_turnover"),
        ("nothing on the agenda is relevant to us. can we just leave?", "practice:leaving_a_partnership"),
        ("how do I make sure older residents themselves get a say", "practice:involving_community"),
        ("how much notice is normal", "practice:leaving_a_partnership"),
        ("how would we even show its doing anything for people", "practice:measuring_success"),
        ("could we keep a shared list of who's visiting who between us?", "practice:information_sharing"),
        ("would it have been better if we'd all just gone in for the contract together?", "practice:joint_bids"),
        (
            "can I tell the social worker about a family we're worried about? they haven't given consent",
            "practice:information_sharing",
        ),
    ],
)
def test_a_practice_topic_said_in_everyday_words_is_named(retriever: Retriever, text: str, topic: str) -> None:
    assert topic in {d.key for d in retriever.named(text)}


def test_of_two_topics_named_the_one_the_question_names_leads(retriever: Retriever) -> None:
    text = (
        "I sit on a partnership that's a waste of my time, all we do is go round in circles at the meetings. Can we just leave?"
    )
    assert {d.key for d in retriever.named(text)} >= {"practice:leaving_a_partnership", "practice:running_meetings"}
    (top, _), _ = retriever.search(text, k=2)
    assert top.key == "practice:leaving_a_partnership"


@pytest.mark.parametrize(
    "text,topic,named",
    [
        # A story that starts "we set up a partnership..." is about what went wrong since, not about starting one.
        ("how do we set up a partnership with the library and the school?", "start_partnership", True),
        ("the council has asked me to set up a partnership on loneliness", "start_partnership", True),
        ("we set up a partnership with the leisure centre two years ago and nothing has changed", "start_partnership", False),
        # Who they are is not what they ask about.
        ("I've been asked to chair the new locality meeting, any tips?", "running_meetings", True),
        ("I chair the provider board and half the members only come because their contract says so", "running_meetings", False),
        # Whether to join, or a rep who cannot decide (authority).
        ("the youth forum wants us on board, should we say yes?", "joining_a_partnership", True),
        ("what do I need to know before saying yes", "joining_a_partnership", True),
        ("whoever the council sends can't say yes to anything", "joining_a_partnership", False),
        # A question about meetings, or a partnership that has lost its purpose.
        ("what should go on the agenda for the first session", "running_meetings", True),
        ("these days the agenda is just whatever the council wants that month", "running_meetings", False),
        ("how do I stop our steering group becoming a moan-fest", "running_meetings", True),
        ("it has become a general moan about staffing", "running_meetings", False),
        ("how would we know whether the project made any difference", "measuring_success", True),
        ("it's been a year and residents haven't seen any difference", "measuring_success", False),
        (
            "we're in a partnership with the council on antisocial behaviour and my sergeants can't agree anything",
            "community_safety",
            False,
        ),
        ("how does our youth club get a seat on the community safety partnership", "community_safety", True),
        ("I've just started at the ICB and I'm drowning in acronyms", "the_local_system", True),
        ("the board papers are sixty pages of acronyms and arrive the night before", "the_local_system", False),
        ("our contact at the council has just left and nobody has replaced her", "staff_turnover", True),
        ("by the time our trustees reply the group has moved on without us", "staff_turnover", False),
        ("the funder wants us to prove we make a difference and all we have is attendance", "measuring_success", True),
        ("how do we get the young people themselves involved, not just a survey", "involving_community", True),
        ("can we give the charity the names of the young people involved?", "involving_community", False),
        ("every meeting ends in an argument about priorities", "disagreements", True),
        ("and what if i just want us out of it now", "leaving_a_partnership", True),
        ("we want to get out of it before the next financial year", "leaving_a_partnership", True),
        ("Convince me. What do we actually get out of it?", "leaving_a_partnership", False),
        ("How to start talking with them when they not want to talk?", "start_partnership", False),
        ("my trustees reckon it's a waste of money, what's the argument for it?", "disagreements", False),
        # Step one of a partnership, or of the idea just given; where to take it; who'd back me.
        ("We'd like the GP surgery and the library working together. What's step one?", "start_partnership", True),
        ("what would step one look like in reality", "start_partnership", False),
        ("I've never put a partnership together before, what comes first?", "start_partnership", True),
        ("who do i take it to if the practice manager wont talk to me", "which_body", True),
        ("if they keep ignoring pharmacy, where would I take it", "which_body", True),
        ("is there anyone who'd back me up on this", "getting_help", True),
        ("and if we still can't agree after all that, then what", "disagreements", True),
        ("the forum raised it with the Trust twice with no proper answer. Who else can we take it to?", "which_body", True),
    ],
)
def test_a_topic_is_named_when_asked_about_not_when_it_only_appears_in_the_story(
    retriever: Retriever, text: str, topic: str, named: bool
) -> None:
    assert (f"practice:{topic}" in {d.key for d in retriever.named(text)}) is named


@pytest.mark.parametrize(
    "text, topic",
    [
        # Unpaid carers are family carers: no remark on the partnership's unpaid time.
        ("we were set up to sort out respite for unpaid carers and now it's all updates", None),
        ("the sub groups are all unpaid and I'm the only manager", "small_organisations"),
        # Volunteers who are retired are no key person retiring.
        ("our volunteers are retired folk who just want to garden", None),
        ("the officer who held it together has just retired", "staff_turnover"),
        ("the council keeps changing who our contact is, 4 different people in a year", "staff_turnover"),
        ("I'm leaving my post in six weeks and every relationship runs through me", "staff_turnover"),
        # Sharing a caseload is working together, not sharing information about people.
        ("the teams have only just agreed how to share a caseload", None),
        ("can we legally share with each other?", "information_sharing"),
        ("how do we make sure the tenants' voices shape the plan", "involving_community"),
        ("is there anyone who helps small groups like ours with this", "getting_help"),
        ("so who actually commissions our stuff", "the_local_system"),
        ("how do residents get a genuine say before it's decided", "involving_community"),
        ("how much can i approve without it going to the board", "scheme_of_delegation"),
        # "I'm chairing it" says who they are; tips for chairing ask about meetings.
        ("two partners had a proper row over who pays. I'm chairing it. what now", "disagreements"),
        ("any tips for chairing them better", "running_meetings"),
        ("and if we join and it's a waste of time, how would we get out later", "leaving_a_partnership"),
        ("half the actions never get done because everyone thinks somebody else has them", "roles_and_responsibilities"),
        # Sign-off named in a story is no question about what someone may sign off.
        ("the council needs a cabinet report, legal sign off and an equality impact assessment", None),
        ("is there a document that says what she can sign off herself", "scheme_of_delegation"),
    ],
)
def test_practice_keywords_name_the_subject_not_a_word_in_passing(retriever: Retriever, text: str, topic: str | None) -> None:
    named = [doc.key for doc in retriever.named(text)]
    assert named == ([f"practice:{topic}"] if topic else []), named


def test_which_practice_question_a_message_asks_is_learned_from_how_practitioners_asked(knowledge: Knowledge) -> None:
    """The classifier trained on data/knowledge/asked.yml chooses the practice question;
    retrieval's scores stay in their places, so whether the store answers at all is unchanged."""
    question = "a housing association has asked us to come onto their tenants' wellbeing board, is it worth our while or will it just eat our time"
    learned = Retriever.build(documents(knowledge))
    retrieval_alone = Retriever.build([dataclasses.replace(d, examples=()) for d in documents(knowledge)])

    def first_practice(built: Retriever) -> str:
        return next(d.key for d, _ in built.search(question, k=len(built.documents)) if d.kind == "practice")

    assert first_practice(retrieval_alone) == "practice:which_body"  # "who do we ask?", by the words
    assert first_practice(learned) == "practice:joining_a_partnership"  # "should we join?", as people ask it
    assert [s for _, s in learned.search(question, k=5)] == [s for _, s in retrieval_alone.search(question, k=5)]
    assert knowledge.asked["practice:joining_a_partnership"], "asked.yml reached the snapshot"


@pytest.mark.parametrize(
    "text,practice",
    [
        ("the surgery round the corner never answers my calls or emails about the flu clinic, I've tried for months", True),
        ("our project lead at the trust has moved on and nobody has picked up her work", True),
        ("the two charities keep undercutting each other for the same contracts", False),
        ("half the partners only turned up because of the grant", False),
    ],
)
def test_a_practice_question_is_told_from_a_challenge_as_practitioners_told_them(retriever: Retriever, text: str, practice: bool) -> None:
    assert (retriever.asks_practice(text) >= 0.6) is practice, retriever.asks_practice(text)


def test_a_new_content_version_is_answered_at_once_while_its_classifiers_are_fitted(knowledge: Knowledge) -> None:
    """After a content reload nobody waits the few seconds the practice classifiers take: retrieval
    answers alone until they are in place."""
    newer = dataclasses.replace(knowledge, digest="a-version-still-being-learned")
    built = retriever_for(newer)
    assert not built.learned.is_set()
    assert keys(built.search("template for a terms of reference", k=1)) == ["practice:terms_of_reference"]
    assert built.learned.wait(120)
    assert built.asks_practice("the surgery round the corner never answers my calls or emails about the flu clinic") >= 0.6
