"""The content loader: good content loads (SQLite and PostgreSQL), bad content is refused
with an error naming the file and entry, and the store is left as it was."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, inspect, select, text

from actions.store.db import make_engine, make_session_factory
from actions.store.knowledge import read_knowledge
from actions.store.loader import ContentError, export, load, main, read_content
from actions.store.models import (
    AdviceItem,
    AdviceTag,
    GlossaryTerm,
    Passage,
    PracticeQuestion,
    PracticeSignpost,
    Source,
    advice_principles,
    practice_principles,
)
from actions.vocabulary import CHALLENGES, NATIONS, PRINCIPLE_TOPICS, REQUIRED_TOPICS
from tests.conftest import CONTENT_DIR, SEEDS_DIR
from tests.servers import say, sender, texts


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        result = {
            "sources": session.scalar(select(func.count()).select_from(Source)),
            "passages": session.scalar(select(func.count()).select_from(Passage)),
            "advice": session.scalar(select(func.count()).select_from(AdviceItem)),
            "tags": session.scalar(select(func.count()).select_from(AdviceTag)),
            "principle_links": session.scalar(select(func.count()).select_from(advice_principles)),
            "practice": session.scalar(select(func.count()).select_from(PracticeQuestion)),
            "signposts": session.scalar(select(func.count()).select_from(PracticeSignpost)),
            "practice_principle_links": session.scalar(select(func.count()).select_from(practice_principles)),
            "glossary": session.scalar(select(func.count()).select_from(GlossaryTerm)),
        }
    engine.dispose()
    return result


def edit(content_dir: Path, name: str, change) -> None:
    path = content_dir / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_real_content_loads_every_part_of_the_guidance(store_url: str) -> None:
    summary = load(CONTENT_DIR, store_url)
    engine = make_engine(store_url)
    with make_session_factory(engine)() as session:
        knowledge = read_knowledge(session)
    engine.dispose()
    assert set(REQUIRED_TOPICS) <= set(knowledge.topics)
    for challenge in CHALLENGES:
        assert len(knowledge.advice_by_challenge[challenge]) >= 5
        assert knowledge.passages[challenge].attribution == "Adapted from: Top 10 Partnership Killers, Improvement Network"
    assert len(knowledge.topics["benefits"].passages) >= 6
    assert len(knowledge.topics["good_practice"].passages) == 6
    citations = " ".join(f"{s.citation} {s.url or ''}" for s in knowledge.sources)
    for reference in ("Community Change (2010)", "DHSPSS", "Scottish Government (2002)", "kingsfund.org.uk"):
        assert reference in citations
    assert summary["advice items"] == sum(len(v) for v in knowledge.advice_by_challenge.values())
    assert summary["practice questions"] == len(knowledge.practice) == 22


def read_store(url: str):
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        knowledge = read_knowledge(session)
    engine.dispose()
    return knowledge


def test_how_example_why_and_practice_questions_reach_the_snapshot(store_url: str) -> None:
    load(CONTENT_DIR, store_url)
    knowledge = read_store(store_url)
    files = {name: yaml.safe_load((CONTENT_DIR / name).read_text(encoding="utf-8")) for name in ("advice.yml", "practice.yml")}
    for item in files["advice.yml"]["advice"]:
        view = knowledge.advice(item["id"])
        assert (view.how, view.example, view.why) == (tuple(item["how"]), item["example"], item["why"])
    practice = files["practice.yml"]["practice"]
    assert list(knowledge.practice) == [entry["id"] for entry in practice]  # in file order
    for position, entry in enumerate(practice):
        view = knowledge.practice[entry["id"]]
        assert (view.title, view.answer, view.legal, view.position) == (entry["title"], entry["answer"], entry["legal"], position)
        assert view.steps == tuple(entry["steps"]) and view.questions == tuple(entry["questions"])
        assert view.example == entry["example"]
        assert [p.id for p in view.principles] == entry["principles"]
        assert all(p.topic_id in PRINCIPLE_TOPICS for p in view.principles)
        assert [(s.text, s.nations) for s in view.signposts] == [(s["text"], frozenset(s["nations"])) for s in entry["signposts"]]
    sharing = knowledge.practice["information_sharing"]
    assert sharing.legal and "police won't share information" in sharing.questions[0]
    assert [s.nations for s in sharing.signposts] == [frozenset(NATIONS), {"england"}, {"england", "wales"}]
    assert knowledge.practice["terms_of_reference"].signposts == ()
    glossary = yaml.safe_load((CONTENT_DIR / "glossary.yml").read_text(encoding="utf-8"))["glossary"]
    assert [(g.term, g.aliases, g.definition, g.nations, g.related) for g in knowledge.glossary] == [
        (g["term"], tuple(g["aliases"]), g["definition"], frozenset(g["nations"]), g.get("related")) for g in glossary
    ]


def test_loading_twice_is_idempotent(store_url: str) -> None:
    load(CONTENT_DIR, store_url)
    first = counts(store_url)
    load(CONTENT_DIR, store_url)
    assert counts(store_url) == first


def test_edited_content_replaces_the_old(content_dir: Path, sqlite_url: str) -> None:
    load(content_dir, sqlite_url)
    before = counts(sqlite_url)
    edit(content_dir, "advice.yml", lambda d: d["advice"].pop())
    edit(content_dir, "practice.yml", lambda d: d["practice"].pop(3))  # information_sharing: 3 signposts, 2 principles
    # The glossary may only offer content that exists: its terms about sharing offer nothing now.
    edit(content_dir, "glossary.yml", lambda d: [g.pop("related") for g in d["glossary"] if g.get("related") == "information_sharing"])
    # Its examples go with it.
    edit(content_dir, "asked.yml", lambda d: [d[part].pop("information_sharing", None) for part in ("practice", "practice_or_a_challenge")])
    load(content_dir, sqlite_url)
    after = counts(sqlite_url)
    assert after["advice"] == before["advice"] - 1
    assert (after["practice"], after["signposts"]) == (before["practice"] - 1, before["signposts"] - 3)
    assert after["practice_principle_links"] == before["practice_principle_links"] - 2
    assert "information_sharing" not in read_store(sqlite_url).practice


def _unknown_field(data):
    data["advice"][0]["colour"] = "blue"


def _missing_attribution(data):
    for topic in data["topics"]:
        for passage in topic["passages"]:
            if passage["id"] == "challenge_authority":
                passage["attribution"] = None


def _too_few_advice(data):
    data["advice"] = [a for a in data["advice"] if a["challenge"] != "challenge_time"][:] + [
        a for a in data["advice"] if a["challenge"] == "challenge_time"
    ][:4]


def _dangling_principle(data):
    data["advice"][0]["principles"] = ["principle_telepathy"]


def _dangling_source(data):
    data["topics"][0]["passages"][0]["source"] = "nowhere_2099"


def _unknown_tag(data):
    data["advice"][0]["tags"] = {"sector": ["space_agency"]}


def _missing_how(data):
    del data["advice"][0]["how"]


def _long_example(data):
    data["advice"][1]["example"] = " ".join(["word"] * 71)


def _long_step(data):
    data["practice"][0]["steps"][2] = " ".join(["word"] * 31)


def _one_step(data):
    data["advice"][2]["how"] = data["advice"][2]["how"][:1]


def _unknown_nation(data):
    data["practice"][0]["signposts"][0]["nations"] = ["england", "cornwall"]


def _dangling_practice_principle(data):
    data["practice"][2]["principles"].append("principle_telepathy")


def _duplicated_practice_id(data):
    data["practice"][5]["id"] = data["practice"][4]["id"]


def _practice_id_of_advice(data):
    data["practice"][1]["id"] = "competition_name_the_tension"


def _legal_not_boolean(data):
    data["practice"][0]["legal"] = "maybe"


def _practice_without_example(data):
    del data["practice"][1]["example"]


def _short_practice_example(data):
    data["practice"][2]["example"] = "A charity signed an MoU."


def _keyword_with_punctuation(data):
    data["practice"][1]["keywords"].append("ToR (old)")


def _asked_of_no_practice_question(data):
    data["practice"]["how_to_win_friends"] = ["how do I get the council to like us"]


def _told_of_no_challenge(data):
    data["challenges"]["challenge_weather"] = ["it never stops raining at our away days"]


def _asked_not_a_list_of_lines(data):
    data["practice"]["terms_of_reference"] = "what goes in a ToR"


def _alias_of_two_terms(data):
    data["glossary"][1]["aliases"].append("hwbs")  # HWBs is already an alias of HWB, whatever its case


def _long_definition(data):
    data["glossary"][0]["definition"] = " ".join(["word"] * 46)


def _unknown_related(data):
    data["glossary"][0]["related"] = "how_to_win_friends"


def _glossary_without_nations(data):
    data["glossary"][3]["nations"] = []


BAD_CONTENT = [
    ("advice.yml", _unknown_field, r"advice\.yml.*unknown field 'colour'"),
    ("topics.yml", _missing_attribution, r"topics\.yml: passage 'challenge_authority'.*source and attribution"),
    ("advice.yml", _too_few_advice, r"advice\.yml: challenge 'challenge_time' has 4 advice items; at least 5"),
    ("advice.yml", _dangling_principle, r"advice\.yml: advice '\w+': principle 'principle_telepathy' is not"),
    ("topics.yml", _dangling_source, r"topics\.yml: passage '\w+': source 'nowhere_2099' is not in sources\.yml"),
    ("advice.yml", _unknown_tag, r"advice\.yml: advice '\w+': unknown sector 'space_agency'"),
    ("advice.yml", _missing_how, r"advice\.yml: advice entry 'competition_name_the_tension': missing field 'how'"),
    ("advice.yml", _long_example, r"advice\.yml: advice '\w+': example has 71 words; at most 70"),
    ("practice.yml", _long_step, r"practice\.yml: practice 'start_partnership': steps item 3 has 31 words; at most 30"),
    ("advice.yml", _one_step, r"advice\.yml: advice '\w+': how must be a list of 2 to 6 items"),
    ("practice.yml", _unknown_nation, r"practice\.yml: practice 'start_partnership': signpost 1: unknown nation 'cornwall'"),
    ("practice.yml", _dangling_practice_principle, r"practice\.yml: practice 'partnership_agreement': principle 'principle_telepathy' is not"),
    ("practice.yml", _duplicated_practice_id, r"practice\.yml: practice id 'pooled_budgets' is used twice"),
    ("practice.yml", _practice_id_of_advice, r"practice\.yml: practice id 'competition_name_the_tension' is already the id of an advice"),
    ("practice.yml", _legal_not_boolean, r"practice\.yml: practice 'start_partnership': legal must be true or false"),
    ("practice.yml", _practice_without_example, r"practice\.yml: practice entry 'terms_of_reference': missing field 'example'"),
    ("practice.yml", _short_practice_example, r"practice\.yml: practice 'partnership_agreement': example has 5 words; at least 20"),
    ("practice.yml", _keyword_with_punctuation, r"practice\.yml: practice 'terms_of_reference': keyword 'ToR \(old\)' may hold only"),
    ("asked.yml", _asked_of_no_practice_question, r"asked\.yml: practice: 'how_to_win_friends': is not a practice question id"),
    ("asked.yml", _told_of_no_challenge, r"asked\.yml: challenges: 'challenge_weather': is not a challenge id"),
    ("asked.yml", _asked_not_a_list_of_lines, r"asked\.yml: practice: 'terms_of_reference': expected a list of one-line messages"),
    ("glossary.yml", _alias_of_two_terms, r"glossary\.yml: term 'CVS': 'hwbs' is already a term or alias of 'HWB'"),
    ("glossary.yml", _long_definition, r"glossary\.yml: term 'HWB': definition has 46 words; at most 45"),
    ("glossary.yml", _unknown_related, r"glossary\.yml: term 'HWB': related 'how_to_win_friends' is not a practice question or advice item"),
    ("glossary.yml", _glossary_without_nations, r"glossary\.yml: term 'ICB': nations must be a non-empty list"),
]


@pytest.mark.parametrize("name,change,message", BAD_CONTENT, ids=[c[1].__name__.strip("_") for c in BAD_CONTENT])
def test_bad_content_is_refused_and_the_store_is_unchanged(content_dir: Path, store_url: str, name, change, message) -> None:
    load(CONTENT_DIR, store_url)
    before = counts(store_url)
    edit(content_dir, name, change)
    with pytest.raises(ContentError) as refused:
        load(content_dir, store_url)
    assert re.search(message, str(refused.value)), str(refused.value)
    assert counts(store_url) == before


def test_every_problem_is_listed_at_once(content_dir: Path) -> None:
    edit(content_dir, "advice.yml", lambda d: (_missing_how(d), _long_example(d)))
    edit(content_dir, "practice.yml", lambda d: (_unknown_nation(d), _dangling_practice_principle(d)))
    with pytest.raises(ContentError) as refused:
        read_content(content_dir)
    assert str(refused.value).startswith("4 problem(s)"), str(refused.value)


def test_missing_practice_file_is_named(content_dir: Path) -> None:
    (content_dir / "practice.yml").unlink()
    with pytest.raises(ContentError, match=r"practice\.yml: file is missing"):
        read_content(content_dir)


OLD_ADVICE_ITEMS = """CREATE TABLE advice_items (
    id VARCHAR(80) NOT NULL PRIMARY KEY,
    challenge_id VARCHAR(80) NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    position INTEGER NOT NULL
)"""


def test_a_store_made_before_how_example_why_is_upgraded_in_place(store_url: str) -> None:
    """create_all leaves an existing table as it is: make_engine adds the new nullable columns."""
    from sqlalchemy import create_engine

    old = create_engine(store_url, future=True)
    with old.begin() as connection:
        connection.execute(text(OLD_ADVICE_ITEMS))
        connection.execute(text("INSERT INTO advice_items VALUES ('old_item', 'challenge_time', 'Old', 'Old text', 0)"))
    old.dispose()
    engine = make_engine(store_url)
    columns = {c["name"] for c in inspect(engine).get_columns("advice_items")}
    assert {"how", "example", "why"} <= columns
    with engine.connect() as connection:  # the old row is kept, its new columns empty
        assert connection.execute(text("SELECT title, how, example, why FROM advice_items")).all() == [("Old", None, None, None)]
    engine.dispose()
    make_engine(store_url).dispose()  # a second start finds nothing to add
    load(CONTENT_DIR, store_url)
    knowledge = read_store(store_url)
    assert knowledge.advice("old_item") is None
    assert knowledge.advice("competition_name_the_tension").how[0].startswith("List the contracts")
    assert knowledge.practice["information_sharing"].signposts


OLD_PRACTICE_QUESTIONS = """CREATE TABLE practice_questions (
    id VARCHAR(80) NOT NULL PRIMARY KEY,
    title TEXT NOT NULL,
    answer TEXT NOT NULL,
    steps TEXT NOT NULL,
    questions TEXT NOT NULL,
    general_guidance BOOLEAN NOT NULL,
    legal BOOLEAN NOT NULL,
    position INTEGER NOT NULL
)"""


def test_a_store_made_before_practice_examples_is_upgraded_in_place(store_url: str) -> None:
    """practice_questions.example came later: make_engine adds it, and loading fills it."""
    from sqlalchemy import create_engine

    old = create_engine(store_url, future=True)
    with old.begin() as connection:
        connection.execute(text(OLD_PRACTICE_QUESTIONS))
    old.dispose()
    engine = make_engine(store_url)
    assert "example" in {c["name"] for c in inspect(engine).get_columns("practice_questions")}
    engine.dispose()
    load(CONTENT_DIR, store_url)
    assert read_store(store_url).practice["terms_of_reference"].example.startswith("A district council officer")


def test_broken_yaml_names_the_file(content_dir: Path) -> None:
    (content_dir / "sources.yml").write_text("sources: [unclosed\n")
    with pytest.raises(ContentError, match=r"sources\.yml: not valid YAML"):
        read_content(content_dir)


def test_command_line_reports_errors_clearly(content_dir: Path, sqlite_url: str, capsys) -> None:
    edit(content_dir, "advice.yml", _unknown_field)
    assert main(["--content", str(content_dir), "--db", sqlite_url]) == 1
    err = capsys.readouterr().err
    assert "the store is unchanged" in err and "unknown field 'colour'" in err
    assert main(["--db", sqlite_url]) == 0


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("*", "")
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason="../shared/seeds is not beside the project")
def test_passages_are_verbatim_from_the_guidance_documents() -> None:
    """Anything not marked as the project's own words must be found in the seed documents."""
    seeds = _normalise(" ".join(p.read_text(encoding="utf-8") for p in SEEDS_DIR.glob("*.txt")))
    content = read_content(CONTENT_DIR)
    derived = {s["id"] for s in content.sources if s["kind"] == "derived"}
    for topic in content.topics:
        for passage in topic["passages"]:
            if passage["source"] in derived:
                continue
            assert _normalise(passage["text"]) in seeds, f"{passage['id']} is not verbatim from the seeds"


def test_export_writes_the_store_back_as_content_that_loads_the_same(store_url: str, tmp_path: Path) -> None:
    load(CONTENT_DIR, store_url)
    before = counts(store_url)
    engine = make_engine(store_url)
    with make_session_factory(engine)() as session:
        export(session, tmp_path / "exported")
    engine.dispose()
    original, exported = read_content(CONTENT_DIR), read_content(tmp_path / "exported")
    assert exported.advice == [{k: v for k, v in a.items() if v} for a in original.advice]
    assert all(a["how"] and a["example"] and a["why"] for a in exported.advice)
    assert exported.practice == original.practice
    assert exported.glossary == [{k: v for k, v in g.items() if v is not None} for g in original.glossary]
    assert [t["id"] for t in exported.topics] == [t["id"] for t in original.topics]
    load(tmp_path / "exported", store_url)  # loads again as it is, changing nothing
    assert counts(store_url) == before


def readme_advice_example() -> dict:
    """The advice item docs/content.md (linked from the README) shows how to add (one challenge, tagged for a sector)."""
    readme = (CONTENT_DIR.parent.parent / "docs" / "content.md").read_text(encoding="utf-8")
    section = readme.split("Add an advice item for one challenge, tagged for a sector:", 1)[1]
    [item] = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    return item


def test_readme_example_and_an_edited_source_are_served_on_the_next_question_without_restart(advisor, content_dir: Path) -> None:
    """`make load` (the loader's command line) against the running servers: the README's new advice
    item and an edited source are in the very next answers, with no retraining and no restart."""
    item = readme_advice_example()
    assert item["challenge"] in CHALLENGES and set(item["tags"]) == {"sector"}
    edit(content_dir, "advice.yml", lambda d: d["advice"].append(item))
    citation = "Scottish Government (2002) Partnership working: models and experiences (edited while the advisor runs)"
    edit(content_dir, "sources.yml", lambda d: next(s for s in d["sources"] if s["id"] == "scottish_government_2002").update(citation=citation))
    me = sender("content")
    sector = item["tags"]["sector"][0]
    say(advisor.base_url, f'/inform{{"sector": "{sector}"}}', me)
    assert item["title"] not in texts(say(advisor.base_url, "one partner only joined for the grant", me))
    try:
        loaded = subprocess.run(
            [sys.executable, "-m", "actions.store.loader", "--content", str(content_dir), "--db", advisor.knowledge_url],
            cwd=CONTENT_DIR.parent.parent, capture_output=True, text=True, timeout=60,
        )
        assert loaded.returncode == 0, loaded.stderr
        time.sleep(float(advisor.env["KNOWLEDGE_REFRESH_SECONDS"]) + 0.1)  # the action server's content check interval
        more = texts(say(advisor.base_url, "/ask_more", me))  # the next question: no polling
        assert f"\u201c{item['title']}\u201d (suits {sector})" in more and item["text"] in more
        assert citation in texts(say(advisor.base_url, '/ask_sources{"option": "all"}', me))  # "All my sources"
    finally:
        load(CONTENT_DIR, advisor.knowledge_url)  # the original content, for the other tests
