"""The insight report (issue 7): real conversations over the REST channel of the shared advisor,
then the real `python -m report` command on its stores; the CSV figures are checked
against what those conversations did, the privacy rules against every file written, and the
page in headless chromium (charts loaded, text inert, axe-core's WCAG 2.2 AA audit)."""

from __future__ import annotations

import csv
import html
import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from actions.store.db import make_engine, make_session_factory
from actions.store.models import AdviceItem, Feedback, FeedbackItem, HealthCheckResult, HealthCheckScore, QuestionTally
from actions.vocabulary import CHALLENGES, QUESTION_INTENTS
from report import figures, read
from report.export import write_csv
from report.groups import group_similar
from report.page import build
from tests.conftest import ROOT, RunningAdvisor, service_missing
from tests.servers import advice_titles, rest_id, say, sender, texts
from tests.channels.test_web import AXE, BROWSER_ARGS, CHROMIUM, WCAG_22_AA

RESULTS = ROOT / "results"
CLARIFIED = ("I'm not quite sure what you mean", "Sorry, I still don't understand")
COMMENT = "Too general for a small pharmacy & its <b>rota</b>"
SIMILAR = ("what about it", "so what about it then")  # vague follow-ups, read as unclear: one group
MARKUP = "<b>hmm</b> the thing"  # another; must show as text in the page
HEALTH_CHECK = {  # answers in the order the form asks them
    "challenge_competition": "4", "challenge_authority": "2", "challenge_purpose": "skip", "challenge_communication": "5",
    "challenge_funding": "1", "challenge_culture_clash": "3", "challenge_time": "2",
}


def run_report(out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "report", "--out", str(out), *args],
        cwd=ROOT, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **(env or {})},
        capture_output=True, text=True, timeout=180,
    )
    result.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return result


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def by(rows: list[dict[str, str]], *keys: str) -> dict[Any, dict[str, str]]:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


@dataclass
class Conversations:
    """What the test's conversations did, as the report should count it."""

    since: datetime
    senders: list[str] = field(default_factory=list)
    questions: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (sector, role, intent) -> count
    unhelpful_items: list[str] = field(default_factory=list)
    helpful_items: list[str] = field(default_factory=list)
    chosen_after_fallback: str = ""

    def asked(self, intent: str, sector: str = "not known", role: str = "not known") -> None:
        key = (sector, role, intent)
        self.questions[key] = self.questions.get(key, 0) + 1

    def per_intent(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_, _, intent), count in self.questions.items():
            totals[intent] = totals.get(intent, 0) + count
        return totals


def advice_ids(advisor: RunningAdvisor, reply: str) -> list[str]:
    titles = [re.sub(r" \(suits [^)]*\)$", "", title) for title in advice_titles(reply)]
    engine = make_engine(advisor.knowledge_url)
    with make_session_factory(engine)() as session:
        ids = dict(session.execute(select(AdviceItem.title, AdviceItem.id).where(AdviceItem.title.in_(titles))).all())
    engine.dispose()
    assert len(ids) == len(titles) == 1, titles
    return [ids[t] for t in titles]


@pytest.fixture(scope="module")
def conversations(advisor: RunningAdvisor) -> Conversations:
    """Three people talk to the advisor over REST (about 25 turns), then the tracker store has saved them."""
    done = Conversations(since=datetime.now(timezone.utc))
    sent: dict[str, list[str]] = {}

    def turn(who: str, message: str) -> str:
        sent.setdefault(who, []).append(message)
        return texts(say(advisor.base_url, message, who))

    # A pharmacist: a funding question, "Not helpful" with a comment, a knowledge question.
    a = sender("report-a")
    turn(a, '/inform{"sector": "pharmacy"}')  # the "Pharmacy" button of the sector question
    reply = turn(a, "one partner only joined for the grant")
    assert "\u201cFunding\u201d challenge" in reply
    done.asked("challenge_funding", "pharmacy")
    done.unhelpful_items = advice_ids(advisor, reply)
    assert "Anything to add" in turn(a, "/feedback_not_helpful")
    assert "comment is noted" in turn(a, COMMENT)
    assert "key principles" in turn(a, "what are the key principles?")
    done.asked("ask_key_principles", "pharmacy")

    # A council lead: an authority question, "This helped" without a comment, a full health check.
    b = sender("report-b")
    turn(b, '/inform{"sector": "local_government", "role": "lead"}')
    reply = turn(b, "the people at our meetings can't sign anything off")
    assert "\u201cAuthority\u201d challenge" in reply
    done.asked("challenge_authority", "local_government", "lead")
    done.helpful_items = advice_ids(advisor, reply)
    assert "Anything to add" in turn(b, "/feedback_helpful")
    turn(b, "/deny")  # "No comment"
    assert "Let's check your partnership" in turn(b, "check our partnership")
    for answer in HEALTH_CHECK.values():
        reply = turn(b, answer)
    assert "Most pressing for your partnership" in reply
    assert "Benefits" in turn(b, "what are the benefits?")
    done.asked("ask_benefits", "local_government", "lead")

    # Someone who says nothing about themselves: a definition, then messages the advisor does not understand.
    c = sender("report-c")
    assert "partnership working" in turn(c, "what is partnership working?").lower()
    done.asked("ask_definition")
    replies = say(advisor.base_url, SIMILAR[0], c)
    sent[c].append(SIMILAR[0])
    assert texts(replies).startswith(CLARIFIED), texts(replies)
    offered = [b["payload"] for r in replies for b in r.get("buttons", []) if b["payload"] != "/something_else"]
    if offered:  # "Did you mean ...?": the person picks the first topic offered
        done.chosen_after_fallback = offered[0][1:]
        turn(c, offered[0])
        if done.chosen_after_fallback in QUESTION_INTENTS:
            done.asked(done.chosen_after_fallback)
    assert turn(c, SIMILAR[1]).startswith(CLARIFIED)
    turn(c, "/something_else")
    assert turn(c, MARKUP).startswith(CLARIFIED)

    done.senders = [a, b, c]
    for who, messages in sent.items():
        assert advisor.user_messages(rest_id(who), expect=messages) == messages  # saved by the tracker store
    return done


def store_env(advisor: RunningAdvisor) -> dict[str, str]:
    """The settings the servers run with: the report finds both stores from them."""
    return {"TRACKER_STORE_URL": advisor.env["TRACKER_STORE_URL"], "KNOWLEDGE_DB_URL": advisor.env["KNOWLEDGE_DB_URL"]}


@pytest.fixture(scope="module")
def full_report(advisor: RunningAdvisor, conversations: Conversations, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = run_report(out, "--since", conversations.since.isoformat(), env=store_env(advisor))
    assert result.returncode == 0, result.stderr
    print(f"report on the test stores: {result.seconds:.1f} s; {result.stdout.strip()}")
    return out


def test_question_figures_are_what_the_conversations_asked(full_report: Path, conversations: Conversations) -> None:
    expected = conversations.per_intent()
    topics = by(read_csv(full_report / "questions_by_topic.csv"), "topic_id")
    assert list(topics) == list(QUESTION_INTENTS)  # every challenge and topic, even at 0
    assert {i: int(r["questions"]) for i, r in topics.items() if int(r["questions"])} == expected
    assert topics["challenge_funding"]["title"] == "Funding" and topics["challenge_funding"]["kind"] == "challenge"
    assert topics["ask_key_principles"]["kind"] == "knowledge topic"
    # Health-check answers, feedback comments, context and button clicks are not questions.
    assert sum(int(r["questions"]) for r in topics.values()) == sum(expected.values())

    weeks = read_csv(full_report / "questions_by_week.csv")
    this_week = {figures.week_of(conversations.since.date()), figures.week_of(datetime.now(timezone.utc).date())}
    assert {r["week_starting"] for r in weeks} <= {w.isoformat() for w in this_week}
    assert sum(int(r["questions"]) for r in weeks) == sum(expected.values())

    context = read_csv(full_report / "questions_by_sector_role.csv")
    assert {(r["sector"], r["role"], r["topic_id"]): int(r["questions"]) for r in context} == conversations.questions


def test_health_check_figures_are_the_answers_given(full_report: Path) -> None:
    averages = by(read_csv(full_report / "health_check_averages.csv"), "challenge_id")
    assert list(averages) == list(CHALLENGES)
    for challenge, answer in HEALTH_CHECK.items():
        row = averages[challenge]
        if answer == "skip":
            assert (row["answered"], row["skipped"], row["average_score"]) == ("0", "1", "")
        else:
            assert (row["answered"], row["skipped"], row["average_score"]) == ("1", "0", f"{int(answer):.2f}")
            assert row[f"scored_{answer}"] == "1"
    top = by(read_csv(full_report / "health_check_top_challenges.csv"), "challenge_id")
    # The advisor told this person: communication (5), competition (4), culture clash (3).
    assert {c: (r["most_pressing"], r["in_top_three"]) for c, r in top.items() if r["in_top_three"] != "0"} == {
        "challenge_communication": ("1", "1"), "challenge_competition": ("0", "1"), "challenge_culture_clash": ("0", "1"),
    }
    assert list(top)[0] == "challenge_communication"


def test_feedback_figures_and_the_comment(full_report: Path, conversations: Conversations) -> None:
    items = by(read_csv(full_report / "feedback_by_advice_item.csv"), "advice_id")
    assert set(items) == set(conversations.unhelpful_items) | set(conversations.helpful_items)
    for advice_id in conversations.unhelpful_items:
        assert (items[advice_id]["votes"], items[advice_id]["not_helpful"], items[advice_id]["helpful_rate"], items[advice_id]["comments"]) == ("1", "1", "0.00", "1")
    for advice_id in conversations.helpful_items:
        assert (items[advice_id]["votes"], items[advice_id]["helpful"], items[advice_id]["helpful_rate"], items[advice_id]["comments"]) == ("1", "1", "1.00", "0")
    least = read_csv(full_report / "least_helpful_items.csv")
    assert sorted(r["advice_id"] for r in least) == sorted(conversations.unhelpful_items)
    comments = read_csv(full_report / "least_helpful_comments.csv")
    assert sorted((r["advice_id"], r["vote"], r["comment"]) for r in comments) == sorted(
        (advice_id, "not helpful", COMMENT) for advice_id in conversations.unhelpful_items
    )


def test_not_understood_messages_are_grouped_by_similarity(full_report: Path, conversations: Conversations) -> None:
    rows = read_csv(full_report / "not_understood.csv")
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    assert [sorted(r["message"] for r in members) for members in groups.values()] == [sorted(SIMILAR), [MARKUP]]
    first = groups["1"]
    assert {r["group_size"] for r in first} == {"2"} and all(r["times"] == "1" for r in rows)
    assert first[0]["then_chose"] == conversations.chosen_after_fallback  # the "Did you mean" topic picked
    assert first[0]["nlu_best_guess"]  # the intent the model found most likely, kept beside the fallback
    [week] = read_csv(full_report / "not_understood_by_week.csv")
    assert week["messages"] == "3"  # the comment and the health-check answers are not counted


def written_text(folder: Path) -> str:
    """Every file's text, the HTML without its base64 images (which could contain anything)."""
    return "\n".join(re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", p.read_text(encoding="utf-8")) for p in sorted(folder.iterdir()))


def identifiers(advisor: RunningAdvisor) -> set[str]:
    """Every sender id in the tracker store and every conversation key in the knowledge store."""
    with sqlite3.connect(advisor.tracker_db) as db:
        senders = {s for (s,) in db.execute("SELECT DISTINCT sender_id FROM events")}
    engine = make_engine(advisor.knowledge_url)
    with engine.connect() as connection:
        keys = set(connection.execute(select(Feedback.conversation_key)).scalars()) | set(
            connection.execute(select(HealthCheckResult.conversation_key)).scalars()
        )
    engine.dispose()
    return {i for i in senders | keys if i and len(i) >= 8}


def test_no_sender_id_or_conversation_key_is_written(full_report: Path, advisor: RunningAdvisor, conversations: Conversations) -> None:
    written = written_text(full_report)
    ids = identifiers(advisor)
    assert {rest_id(s) for s in conversations.senders} <= ids and len(ids) > 3
    assert not [i for i in ids | set(conversations.senders) if i in written]  # stored ids, and the ids REST was given


def test_no_free_text_leaves_out_messages_and_comments(advisor: RunningAdvisor, conversations: Conversations, full_report: Path, tmp_path: Path) -> None:
    result = run_report(tmp_path, "--since", conversations.since.isoformat(), "--no-free-text", env=store_env(advisor))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "not_understood.csv").exists() and not (tmp_path / "least_helpful_comments.csv").exists()
    written = written_text(tmp_path)
    for text in (COMMENT, *SIMILAR, MARKUP, "hmm", html.escape(COMMENT), html.escape(MARKUP)):
        assert text not in written
    assert "Free text is left out" in written
    # The figures themselves are the same.
    for name in ("questions_by_topic", "questions_by_sector_role", "health_check_averages", "feedback_by_advice_item", "not_understood_by_week"):
        assert read_csv(tmp_path / f"{name}.csv") == read_csv(full_report / f"{name}.csv"), name


def test_tallies_of_purged_conversations_are_added_to_the_figures(advisor: RunningAdvisor, conversations: Conversations, tmp_path: Path) -> None:
    # Copies of the stores, so the shared advisor's store keeps no made-up tallies.
    tracker, knowledge = tmp_path / "tracker.db", tmp_path / "knowledge.db"
    for source, target in ((advisor.tracker_db, tracker), (Path(advisor.knowledge_url[len("sqlite:///"):]), knowledge)):
        with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
            original.backup(copy)
    today = datetime.now(timezone.utc).date()
    long_ago = conversations.since.date() - timedelta(days=40)
    engine = make_engine(f"sqlite:///{knowledge}")
    with make_session_factory(engine).begin() as session:
        session.add_all([
            QuestionTally(day=today, intent="challenge_funding", sector="pharmacy", role="", count=5),
            QuestionTally(day=today, intent="ask_sources", sector="", role="", count=2),
            QuestionTally(day=today, intent="greet", sector="", role="", count=9),  # not a question
            QuestionTally(day=long_ago, intent="challenge_time", sector="housing", role="manager", count=7),
        ])
    engine.dispose()
    stores = ("--tracker-db", f"sqlite:///{tracker}", "--knowledge-db", f"sqlite:///{knowledge}")

    result = run_report(tmp_path / "since", "--since", conversations.since.isoformat(), *stores)
    assert result.returncode == 0, result.stderr
    expected = conversations.per_intent()
    expected["challenge_funding"] += 5
    expected["ask_sources"] = expected.get("ask_sources", 0) + 2
    topics = read_csv(tmp_path / "since" / "questions_by_topic.csv")
    assert {r["topic_id"]: int(r["questions"]) for r in topics if r["questions"] != "0"} == expected
    context = by(read_csv(tmp_path / "since" / "questions_by_sector_role.csv"), "sector", "role", "topic_id")
    assert context[("pharmacy", "not known", "challenge_funding")]["questions"] == "6"  # 1 asked + 5 tallied

    result = run_report(tmp_path / "all", *stores)  # without --since, the older tally counts too, in its own week
    assert result.returncode == 0, result.stderr
    weeks = by(read_csv(tmp_path / "all" / "questions_by_week.csv"), "week_starting", "topic_id")
    assert weeks[(figures.week_of(long_ago).isoformat(), "challenge_time")]["questions"] == "7"
    context = by(read_csv(tmp_path / "all" / "questions_by_sector_role.csv"), "sector", "role", "topic_id")
    assert context[("housing", "manager", "challenge_time")]["questions"] == "7"


# --- The page in a real browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        service_missing("report not opened in a browser: /usr/bin/chromium is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


def test_report_renders_in_chromium_with_its_charts_and_text_as_text(browser: Any, full_report: Path) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, java_script_enabled=True)
    if AXE.exists():
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((full_report / "report.html").as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate("() => [...document.images].map(i => ({done: i.complete, width: i.naturalWidth, alt: i.alt}))")
    assert len(images) >= 6  # questions x3, health check x2, feedback
    assert all(i["done"] and i["width"] > 300 and len(i["alt"]) > 40 for i in images), images
    assert [r for r in requests if not r.startswith(("file:", "data:"))] == []  # self-contained
    body = page.inner_text("body")
    assert MARKUP in body and COMMENT in body  # shown as the characters people typed
    assert page.evaluate("() => document.querySelectorAll('b, script').length") == 0
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert page.locator("h1").inner_text() == "Partnership Advisor: insight report"
    assert page.locator("h2").all_inner_texts() == [
        "Questions per challenge and topic", "Partnership health checks", "Feedback on advice", "Messages the advisor did not understand",
    ]
    if AXE.exists():
        violations = page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations.map(v => v.id + ': ' + v.help)",
            WCAG_22_AA,
        )
        assert violations == []
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "report.png"), full_page=True)
    page.screenshot(path=str(RESULTS / "report-top.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1100, "height": 1500})  # docs/report.png
    context.close()


# --- A fresh install, an unreachable store, and the parts on their own --------------------------


def test_fresh_install_gets_an_empty_report_and_no_database_is_created(tmp_path: Path) -> None:
    stores = ("--tracker-db", f"sqlite:///{tmp_path / 'none' / 'tracker.db'}", "--knowledge-db", f"sqlite:///{tmp_path / 'none' / 'knowledge.db'}")
    result = run_report(tmp_path / "out", *stores)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "none").exists()
    page = (tmp_path / "out" / "report.html").read_text()
    assert "No questions yet" in page and "No health checks completed yet" in page and "No feedback yet" in page
    assert "There is no tracker store yet" in page
    header = read_csv(tmp_path / "out" / "questions_by_topic.csv")
    assert [r["questions"] for r in header] == ["0"] * len(QUESTION_INTENTS)
    assert read_csv(tmp_path / "out" / "feedback_by_advice_item.csv") == []


def test_an_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    password = "not-a-real-password"
    url = URL.create("postgresql", username="reporter", password=password, host="127.0.0.1", port=9, database="advisor")
    result = run_report(tmp_path, "--tracker-db", url.render_as_string(hide_password=False))
    assert result.returncode == 2
    assert "Cannot reach the tracker store at postgresql://reporter:***@127.0.0.1:9/advisor" in result.stderr
    assert password not in result.stderr and not (tmp_path / "report.html").exists()


def test_stores_are_opened_read_only(store_url: str) -> None:
    make_engine(store_url).dispose()  # the tables
    engine = read.open_read_only(store_url, "knowledge store")
    with pytest.raises(Exception, match="(?i)read.only|readonly|attempt to write"):
        with engine.begin() as connection:
            connection.execute(QuestionTally.__table__.insert().values(day=date.today(), intent="x", sector="", role="", count=1))
    engine.dispose()


def test_report_reads_postgresql_stores(postgres_url: str, tmp_path: Path) -> None:
    """Health checks, feedback and tallies in PostgreSQL; its tracker store (the same database) not yet written to."""
    engine = make_engine(postgres_url)
    moment = datetime.now(timezone.utc)
    with make_session_factory(engine).begin() as session:
        session.add(HealthCheckResult(conversation_key=None, created_at=moment, sector="health", scores=[
            HealthCheckScore(challenge_id="challenge_time", score=5), HealthCheckScore(challenge_id="challenge_purpose", score=None)]))
        session.add(Feedback(conversation_key=None, created_at=moment, challenge_id="challenge_time", helpful=False,
                             comment="/feedback_not_helpful", items=[FeedbackItem(advice_id="time_a")]))  # stored by an older release
        session.add(QuestionTally(day=moment.date(), intent="challenge_time", sector="health", role="", count=3))
    engine.dispose()
    result = run_report(tmp_path, "--tracker-db", postgres_url, "--knowledge-db", postgres_url)
    assert result.returncode == 0, result.stderr
    assert by(read_csv(tmp_path / "questions_by_topic.csv"), "topic_id")["challenge_time"]["questions"] == "3"
    averages = by(read_csv(tmp_path / "health_check_averages.csv"), "challenge_id")
    assert (averages["challenge_time"]["average_score"], averages["challenge_purpose"]["skipped"]) == ("5.00", "1")
    [item] = read_csv(tmp_path / "feedback_by_advice_item.csv")
    assert (item["advice_id"], item["title"], item["helpful_rate"], item["comments"]) == ("time_a", "(no longer in the content)", "0.00", "0")
    assert read_csv(tmp_path / "least_helpful_comments.csv") == []  # a button payload is not a comment


def test_similar_messages_are_grouped_largest_first() -> None:
    texts_ = [
        "can you book a room for me", "what's the weather today", "book me a meeting room please", "book a room",
        "weather tomorrow?", "our chair keeps changing", "the chair changes every month", "asdf",
    ]
    groups = [[texts_[i] for i in g] for g in group_similar(texts_)]
    assert groups[0] == ["can you book a room for me", "book me a meeting room please", "book a room"]
    assert ["what's the weather today", "weather tomorrow?"] in groups
    assert ["our chair keeps changing", "the chair changes every month"] in groups
    assert ["asdf"] in groups
    assert group_similar(["only one"]) == [[0]] and group_similar([]) == []
    assert group_similar(["the", "a", "and"])  # stop words only: grouped by characters


def test_html_escapes_everything_and_csv_defuses_formulas(tmp_path: Path) -> None:
    data = read.Data(tracker_found=True, knowledge_found=True)
    texts_ = ('<script>alert("x")</script>', '=HYPERLINK("http://evil")', "PK\x03\x04\x00\x1b[31m\ud800 binary")
    data.not_understood = [read.NotUnderstood(read.clean(t), date.today(), None, None) for t in texts_]
    # A comment and a title (content is edited by people too) reach the page by other paths.
    data.advice = {"a1": ("<i>Meet</i> less", "challenge_time")}
    data.votes = [read.Vote(datetime.now(timezone.utc), "challenge_time", False, "<script>bad()</script> & more", ["a1"])]
    rendered = build(data, free_text=True, since=None, now=datetime.now(timezone.utc))
    assert "<script" not in rendered.html and "<i>" not in rendered.html  # Jinja2 autoescape
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert "&lt;script&gt;bad()&lt;/script&gt; &amp; more" in rendered.html and "&lt;i&gt;Meet&lt;/i&gt; less" in rendered.html
    assert "=HYPERLINK(&#34;http://evil&#34;)" in rendered.html and 'href="http' not in rendered.html
    [table] = [t for t in rendered.tables if t.name == "not_understood"]
    messages = [row["message"] for row in read_csv(write_csv(table, tmp_path))]
    assert sorted(messages) == ["'=HYPERLINK(\"http://evil\")", '<script>alert("x")</script>', "PK[31m? binary"]  # no formula, no NUL


def test_page_is_one_file_with_its_stylesheet_inlined() -> None:
    rendered = build(read.Data(), free_text=True, since=None, now=datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc))
    assert '"Segoe UI"' in rendered.html and "<link" not in rendered.html  # the CSS as written, not escaped
    assert "Generated 2025-01-02 03:04 UTC" in rendered.html and "No questions yet" in rendered.html
