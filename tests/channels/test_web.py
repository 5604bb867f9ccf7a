"""The web chat: its Socket.IO channel (signed sessions, origins) with python-socketio's client,
and the page in a real browser (Debian's chromium, headless, driven by Playwright) against the
real Rasa server and action server: the journey of issue 4, the WCAG 2.2 AA checks of issue 9,
the GOV.UK Frontend page of issue 18 (first screen, structured replies, health-check chart,
transcript navigation) and the failure states of issue 15, finding 9 (offline, lost connection,
no JavaScript or a missing script, 400 % zoom)."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import socketio

from actions import settings
from channels.inputs import conversation_id
from channels.socketio import SessionSigner, allowed_origins
from server import launch
from tests.conftest import ROOT, RunningAdvisor, service_missing

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_TAGS = WCAG_22_AA + ["best-practice"]
RESULTS = ROOT / "results"
CHALLENGE = "one partner only joined for the grant"
CHALLENGE_BUTTONS = ["How do I do that?", "An example", "Another idea", "Sources", "A different problem"]
SECTOR_BUTTONS = ["Health / NHS", "Council", "Charity or community group", "Pharmacy"]


def web_id(session_id: str) -> str:
    """The id the tracker store keeps a web chat conversation under: "web:<session id>"."""
    return conversation_id("socketio", session_id)


# --- The channel, with python-socketio's client -------------------------------------------------


class ChatClient:
    """One browser tab's worth of Socket.IO: asks for a session, sends, collects bot messages."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.tokens: asyncio.Queue = asyncio.Queue()
        self.replies: asyncio.Queue = asyncio.Queue()
        self.sio.on("session_confirm", self.tokens.put_nowait)
        self.sio.on("bot_uttered", self.replies.put_nowait)

    async def connect(self, advisor: RunningAdvisor, origin: str | None = None) -> "ChatClient":
        headers = {"Origin": origin} if origin else {}
        # Long-polling: python-engineio's websocket client needs aiohttp >= 3.10, Rasa 3.6 pins 3.9.
        # (The browser tests use the websocket transport.)
        await self.sio.connect(advisor.base_url, transports=["polling"], socketio_path="/socket.io", headers=headers)
        return self

    async def session(self, session_id: Any = None) -> str:
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.tokens.get(), 10)

    async def say(self, text: str, **extra: Any) -> None:
        await self.sio.emit("user_uttered", {"message": text, **extra})

    async def reply(self, timeout: float = 20) -> dict:
        return await asyncio.wait_for(self.replies.get(), timeout)

    async def close(self) -> None:
        await self.sio.eio.disconnect(abort=True)  # without waiting for the pending long-poll


async def test_session_ids_are_issued_and_signed_by_the_server(advisor: RunningAdvisor) -> None:
    a = await ChatClient().connect(advisor)
    b = await ChatClient().connect(advisor)
    try:
        token_a = await a.session()
        id_a, signature = token_a.split(".")
        assert len(id_a) == 32 and len(signature) == 64

        # Stock Rasa would put b in a's conversation for asking with a's id; here b gets its own.
        for attempt in (id_a, f"{id_a}.{'0' * 64}", f"{id_a}.{signature[:-1]}x", {"id": id_a}, 12345):
            token = await b.session(attempt)
            assert token.split(".")[0] != id_a, attempt
        # The holder of the signed token resumes the conversation (a reload, a second tab).
        assert await b.session(token_a) == token_a
    finally:
        await a.close()
        await b.close()


async def test_a_message_cannot_choose_its_conversation(advisor: RunningAdvisor) -> None:
    a = await ChatClient().connect(advisor)
    b = await ChatClient().connect(advisor)
    c = await ChatClient().connect(advisor)
    try:
        token_a = await a.session()
        id_a = token_a.split(".")[0]
        id_b = (await b.session(id_a)).split(".")[0]

        # b names a's conversation in its message, as the stock channel would honour: ignored.
        await b.say("what are the key principles?", session_id=id_a)
        assert "openness, trust and honesty" in (await b.reply())["text"]
        with pytest.raises(asyncio.TimeoutError):
            await a.reply(timeout=1.5)  # a hears nothing of b's conversation
        assert advisor.user_messages(web_id(id_b), expect=["what are the key principles?"]) == ["what are the key principles?"]
        assert advisor.user_messages(web_id(id_a)) == []

        # A second tab holding a's token joins a's conversation: both tabs get the answer.
        assert await c.session(token_a) == token_a
        await c.say(CHALLENGE)
        for tab in (a, c):
            assert "\u201cFunding\u201d challenge" in (await tab.reply())["text"]
        assert advisor.user_messages(web_id(id_a), expect=[CHALLENGE]) == [CHALLENGE]
    finally:
        for client in (a, b, c):
            await client.close()


async def test_only_the_pages_own_origin_may_connect(advisor: RunningAdvisor) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await ChatClient().connect(advisor, origin="http://evil.example")
    own = await ChatClient().connect(advisor, origin=advisor.base_url)
    assert (await own.session()).count(".") == 1
    await own.close()


def socketio_handshake(advisor: RunningAdvisor, headers: dict[str, str]) -> int:
    """The status of a Socket.IO (Engine.IO 4) handshake sent with exactly these headers."""
    connection = http.client.HTTPConnection("127.0.0.1", advisor.rasa_port, timeout=10)
    try:
        connection.putrequest("GET", "/socket.io/?EIO=4&transport=polling", skip_host=True, skip_accept_encoding=True)
        for name, value in {"Host": f"127.0.0.1:{advisor.rasa_port}", **headers}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_origin_check_trusts_the_configured_origins_not_the_requests_host(advisor: RunningAdvisor) -> None:
    """python-socketio's default takes "the server's own origin" from Host and X-Forwarded-Host,
    which the request sets itself: a client (or a page on a DNS name rebound to this server)
    naming its own origin in all three passed."""
    port = advisor.rasa_port
    spoofed = {
        "Host and X-Forwarded-Host": {"Origin": "http://evil.example", "Host": "evil.example",
                                      "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        "X-Forwarded-Host": {"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        "DNS rebinding (Host is the attacker's name)": {"Origin": f"http://evil.example:{port}", "Host": f"evil.example:{port}"},
    }
    for name, headers in spoofed.items():
        assert socketio_handshake(advisor, headers) == 400, name
    # The page's own origin, as the launcher serves it (settings.public_origins), is accepted.
    for origin in settings.local_origins(port):
        assert socketio_handshake(advisor, {"Origin": origin}) == 200, origin


def test_allowed_origins_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBCHAT_ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("PUBLIC_ORIGINS", raising=False)
    assert allowed_origins() == ["http://127.0.0.1:5005", "http://localhost:5005"]  # where `make run` serves
    assert launch.with_public_origins({}, 5123)["PUBLIC_ORIGINS"] == "http://127.0.0.1:5123,http://localhost:5123"
    assert launch.with_public_origins({"PUBLIC_ORIGINS": "https://a.example"}, 5123)["PUBLIC_ORIGINS"] == "https://a.example"
    monkeypatch.setenv("PUBLIC_ORIGINS", "https://Advisor.example.org:443/")
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://advisor.example.org/, https://intranet.example.nhs.uk")
    assert allowed_origins() == ["https://advisor.example.org", "https://intranet.example.nhs.uk"]
    monkeypatch.setenv("PUBLIC_ORIGINS", "advisor.example.org")  # no scheme: no browser sends that
    with pytest.raises(ValueError, match="PUBLIC_ORIGINS"):
        allowed_origins()


def test_session_signatures_depend_on_the_secret_which_the_launcher_keeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = SessionSigner("one-secret-of-32-characters-long").issue()
    assert SessionSigner("one-secret-of-32-characters-long").verify(token) == token.split(".")[0]
    assert SessionSigner("another-secret-32-characters-lon").verify(token) is None
    with pytest.raises(Exception, match="WEBCHAT_SESSION_SECRET"):
        SessionSigner("")

    monkeypatch.setattr(launch, "RUN_DIR", tmp_path)
    monkeypatch.delenv("WEBCHAT_SESSION_SECRET", raising=False)
    first = launch.server_env()["WEBCHAT_SESSION_SECRET"]
    assert len(first) == 64 and launch.server_env()["WEBCHAT_SESSION_SECRET"] == first  # kept across restarts
    assert (tmp_path / "webchat-session-secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", "from-the-environment-0123456789")
    assert launch.server_env()["WEBCHAT_SESSION_SECRET"] == "from-the-environment-0123456789"


# --- The page, in a real browser ----------------------------------------------------------------


# Module scope: a live sync Playwright leaves an event loop running in the main thread, which
# breaks asyncio.run() in the test modules that follow.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        service_missing("web chat not tested in a browser: /usr/bin/chromium is missing (apt-get install chromium)")
    if not AXE.exists() or not (ROOT / "node_modules" / "socket.io-client").exists():
        service_missing("web chat not tested in a browser: node_modules is missing (make install runs npm ci)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


class Chat:
    """The chat page in a fresh browser context (its own sessionStorage), as a person uses it."""

    def __init__(self, browser: Any, advisor: RunningAdvisor, **context_options: Any) -> None:
        self.advisor = advisor
        self.context = browser.new_context(**context_options)
        # axe-core from node_modules, injected by the browser itself (the page's CSP allows no inline script).
        self.context.add_init_script(path=str(AXE))
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("websocket", lambda ws: self.requests.append(ws.url))
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    @property
    def url(self) -> str:
        return self.advisor.base_url + launch.WEB_CHAT_PATH

    def open(self) -> "Chat":
        self.page.goto(self.url)
        self.wait_for_bot_messages(1)
        return self

    def bot_count(self) -> int:
        return self.page.locator("#log .chat-msg--bot").count()

    def wait_for_bot_messages(self, count: int) -> None:
        """Until at least `count` bot messages are shown and no more arrive (answers come in parts)."""
        self.page.locator("#log .chat-msg--bot").nth(count - 1).wait_for()
        seen, quiet_since = self.bot_count(), time.monotonic()
        while time.monotonic() - quiet_since < 0.6:
            time.sleep(0.1)
            if self.bot_count() != seen:
                seen, quiet_since = self.bot_count(), time.monotonic()

    def ask(self, text: str) -> list[str]:
        """Type and send a message, wait for the whole answer, return its parts' texts."""
        before = self.bot_count()
        self.page.locator("#message").fill(text)
        self.page.locator("#message").press("Enter")
        return self.answer_after(before)

    def ask_challenge(self) -> list[str]:
        """The challenge question: the first idea at once (in parts: the challenge recognised,
        then the idea) and, under it, the sector asked once; the buttons of both stay usable
        (the idea's, and the sector question's)."""
        answer = self.ask(CHALLENGE)
        assert "Try this: " in "\n".join(answer[:-1]) and "which sector do you work in?" in answer[-1], answer
        assert self.enabled_buttons() == CHALLENGE_BUTTONS + SECTOR_BUTTONS
        return answer

    def click(self, title: str) -> list[str]:
        """Click the usable reply button of that title, in whichever message of the answer it is."""
        before = self.bot_count()
        self.page.locator("#log .chat-replies").get_by_role("button", name=title, exact=True, disabled=False).click()
        return self.answer_after(before)

    def answer_after(self, before: int) -> list[str]:
        self.wait_for_bot_messages(before + 1)
        return [self.message_text(m) for m in self.page.locator("#log .chat-msg--bot").all()[before:]]

    @staticmethod
    def shown_text(message: Any) -> str:
        """A message as shown, back as the lines it came as: paragraphs, "1. " and "• " list items."""
        return message.locator(".chat-msg__text").evaluate(r"""text => [...text.children].map(block => {
            if (block.tagName === 'P') return block.textContent;
            const start = block.tagName === 'OL' ? (block.start || 1) : 0;
            return [...block.children].map((li, i) => (start ? (start + i) + '. ' : '• ') +
                [...li.childNodes].map(n => n.nodeName === 'BR' ? '\n  ' : n.textContent).join('')).join('\n');
        }).join('\n')""")

    @classmethod
    def message_text(cls, message: Any) -> str:
        return cls.shown_text(message).split(": ", 1)[1]  # after "... said: "

    def transcript(self) -> list[str]:
        return [self.shown_text(m) for m in self.page.locator("#log .chat-msg").all()]

    def latest_replies(self) -> Any:
        return self.page.locator("#log .chat-msg--bot:has(.chat-replies)").last

    def enabled_buttons(self) -> list[str]:
        return [b.inner_text() for b in self.page.locator("#log .chat-replies button:enabled").all()]

    def session_id(self) -> str:
        return self.page.evaluate("() => JSON.parse(sessionStorage.getItem('partnership-advisor.chat')).token").split(".")[0]

    def no_horizontal_scroll(self) -> bool:
        return self.page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            " && document.getElementById('log').scrollWidth <= document.getElementById('log').clientWidth"
        )

    def audit(self) -> list[dict]:
        """axe-core's WCAG 2.2 A/AA and best-practice violations of the page as it is now."""
        return self.page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
            }""",
            AXE_TAGS,
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def chat(browser: Any, advisor: RunningAdvisor) -> Iterator[Chat]:
    page = Chat(browser, advisor)
    yield page
    page.close()


def test_journey_advice_buttons_reload_and_injection(chat: Chat, advisor: RunningAdvisor) -> None:
    # Opens with what the advisor is, where its content comes from, a welcome and example questions.
    chat.open()
    assert chat.page.title() == "Partnership Advisor: chat"
    about = chat.page.locator("#about").inner_text()
    assert "bot, not a person" in about and "content comes from" in about
    [welcome] = [chat.message_text(m) for m in chat.page.locator("#log .chat-msg--bot").all()]
    assert welcome.startswith("Hello! I'm Partnership Advisor")
    assert chat.enabled_buttons() == ["Our reps can't sign anything off", "Common challenges", "The key principles", "Check our partnership"]
    assert chat.page.locator("#log .chat-msg--user").count() == 0  # the greeting request is not shown as typed

    # Links: only http(s), rendered as links that pass nothing on (here in a bulleted list of sources).
    sources = "\n".join(chat.ask("where does this advice come from?"))
    assert "http://www.kingsfund.org.uk/publications/articles/improving.html" in sources
    link = chat.page.locator("#log li a[href='http://www.kingsfund.org.uk/publications/articles/improving.html']")
    assert link.count() == 1 and link.get_attribute("rel") == "noopener noreferrer"

    # A challenge question: the typing indicator shows while waiting, then the advice with buttons.
    chat.page.evaluate("""() => { window.typingShown = false;
        new MutationObserver(() => { if (!document.getElementById('typing').hidden) window.typingShown = true; })
            .observe(document.getElementById('typing'), {attributes: true}); }""")
    advice_at = chat.bot_count()  # the answer's first part: the first idea (the sector question under it)
    *parts, question = chat.ask_challenge()
    idea = "\n".join(parts)
    assert "\u201cFunding\u201d challenge" in idea and "simply to access funding" in idea
    assert "Try this: " in idea and "Rests on:" in idea
    assert "which sector do you work in?" in question
    assert chat.page.evaluate("() => window.typingShown") is True
    assert chat.page.locator("#typing").is_hidden()
    # Earlier buttons are answered: disabled; both parts of this answer keep theirs.
    assert chat.enabled_buttons() == CHALLENGE_BUTTONS + SECTOR_BUTTONS
    # The answer is shown from its start (it is longer than the log's height).
    log_box = chat.page.locator("#log").bounding_box()
    first_part = chat.page.locator("#log .chat-msg--bot").nth(advice_at).bounding_box()
    assert log_box["y"] <= first_part["y"] < log_box["y"] + 40, (log_box, first_part)
    RESULTS.mkdir(exist_ok=True)
    chat.page.screenshot(path=str(RESULTS / "webchat.png"), full_page=True)

    # A button click continues the conversation (one of the idea's, above the unanswered question);
    # its title is shown as the person's message, and the question's buttons are now answered too.
    how = chat.click("How do I do that?")
    assert how[0].startswith("How to put \u201cAsk why each partner joins\u201d into practice:\n1. ")
    assert chat.transcript()[-len(how) - 1] == "You said: How do I do that?"
    assert not set(SECTOR_BUTTONS) & set(chat.enabled_buttons())
    # Its numbered steps are a list, led by the line before them (screen readers say "list, 4 items").
    steps = chat.page.locator("#log .chat-msg--bot").last
    assert steps.locator("ol > li").count() == how[0].count("\n") >= 3
    lead = steps.locator("p.chat-msg__lead")
    assert lead.inner_text().endswith("into practice:") and steps.locator("ol").get_attribute("aria-labelledby") == lead.get_attribute("id")

    # Markup typed by a person is shown as text and never runs.
    injection = "<img src=x onerror=alert(1)>"
    chat.ask(injection)
    assert f"You said: {injection}" in chat.transcript()
    assert chat.page.locator("#log img, #log script").count() == 0
    assert chat.dialogs == [] and chat.errors == []

    # A reload keeps the conversation: same history, same server-side conversation, no new greeting.
    before_reload, session, buttons = chat.transcript(), chat.session_id(), chat.enabled_buttons()
    chat.page.reload()
    chat.page.locator("#log .chat-msg").nth(len(before_reload) - 1).wait_for()
    assert chat.transcript() == before_reload
    assert chat.session_id() == session
    assert buttons and chat.enabled_buttons() == buttons  # the latest answer's, still usable
    chat.ask("what are the benefits?")
    time.sleep(0.5)  # Rasa saves the tracker just after answering
    texts = advisor.user_messages(web_id(session))
    assert texts[:3] == ["/greet", "where does this advice come from?", CHALLENGE] and texts[-1] == "what are the benefits?"
    assert texts.count("/greet") == 1

    # Nothing was requested from anywhere but this server.
    assert chat.requests and all(re.match(rf"(http|ws)://127\.0\.0\.1:{advisor.rasa_port}/", url) for url in chat.requests), chat.requests


def test_markup_and_scripts_from_the_server_are_shown_as_text(chat: Chat) -> None:
    """What the knowledge store says reaches the page as bot text: it must not become markup either."""
    sockets: list[Any] = []

    def through(ws: Any) -> None:
        ws.connect_to_server()  # the real server, with a handle to add a message of our own
        sockets.append(ws)

    chat.page.route_web_socket(re.compile(r"/socket\.io/"), through)
    chat.open()
    hostile = {
        "text": "<img src=x onerror=alert(1)> <script>alert(2)</script> javascript:alert(3) "
                "[x](javascript:alert(4)) see https://example.org/guide?a=1&b=<b>2</b>.",
        "quick_replies": [{"title": "<b onclick=alert(5)>bold</b>", "payload": "/greet"}],
    }
    before = chat.bot_count()
    sockets[0].send("42" + json.dumps(["bot_uttered", hostile]))  # a Socket.IO event frame
    chat.wait_for_bot_messages(before + 1)

    message = chat.page.locator("#log .chat-msg--bot").last
    assert chat.message_text(message) == hostile["text"]
    assert message.locator("img, script, b").count() == 0
    assert [a.get_attribute("href") for a in message.locator("a").all()] == ["https://example.org/guide?a=1&b="]
    assert message.get_by_role("button").inner_text() == "<b onclick=alert(5)>bold</b>"
    assert chat.dialogs == []


# --- Accessibility (WCAG 2.2 AA) --------------------------------------------------------------


def test_axe_finds_no_wcag22_aa_violation_when_opened_after_advice_and_in_the_health_check(chat: Chat) -> None:
    chat.open()
    states = {"just opened": chat.audit()}
    chat.ask_challenge()
    assert chat.enabled_buttons() == CHALLENGE_BUTTONS + SECTOR_BUTTONS
    states["after a challenge answer with buttons (the first idea and the sector question)"] = chat.audit()
    chat.click("How do I do that?")
    assert chat.page.locator("#log ol > li").count() >= 3
    states["after numbered steps (a lead and a list)"] = chat.audit()
    chat.ask("check our partnership")  # whatever the health check shows, audited as it comes back
    states["during the health check"] = chat.audit()

    report = []
    for state, violations in states.items():
        print(f"axe (tags {', '.join(AXE_TAGS)}), {state}: {len(violations)} violation(s)")
        for v in violations:
            report.append(f"[{state}] {v['id']} ({v['impact']}): {v['help']}")
            report += [f"    {node['target']}: {node['summary']}" for node in v["nodes"]]
    assert not report, "axe-core found WCAG 2.2 A/AA violations:\n" + "\n".join(report)


def test_privacy_is_stated_in_the_page_and_the_welcome_and_its_notice_is_accessible(chat: Chat) -> None:
    days = settings.retention_days()  # the servers' setting: they run with this environment
    chat.open()
    summary = chat.page.locator("#privacy-summary").inner_text()
    assert f"kept for {days} days after your last message" in summary and "not shared" in summary
    assert "“delete my data”" in summary
    [welcome] = [chat.message_text(m) for m in chat.page.locator("#log .chat-msg--bot").all()]
    assert f"for {days} days after your last message" in welcome and '"delete my data"' in welcome

    chat.page.locator("#privacy-summary").get_by_role("link", name="Privacy notice").click()
    chat.page.wait_for_url("**/chat/privacy.html")
    assert chat.page.title() == "Partnership Advisor: privacy notice"
    assert chat.page.locator("html").get_attribute("lang") == "en-GB"
    assert chat.page.locator("main h1, main h2").all_inner_texts() == [
        "Privacy notice", "What is kept", "For how long", "How to delete it now", "What is not done", "Questions"]
    notice = chat.page.locator("main").inner_text()
    assert f"deleted {days} days after your last message" in notice and "{{" not in notice
    violations = chat.audit()
    assert not violations, violations
    chat.page.get_by_role("link", name="Back to the chat").click()
    chat.page.wait_for_url("**/chat/")
    assert chat.page.locator("#log .chat-msg").count() == 1  # the same tab's conversation, not a new one


def test_delete_my_data_in_the_page_drops_the_tabs_copy_and_starts_afresh(chat: Chat, advisor: RunningAdvisor) -> None:
    chat.open()
    chat.ask("what are the key principles?")
    old = chat.session_id()
    assert "what are the key principles?" in advisor.user_messages(web_id(old), expect=["/greet", "what are the key principles?"])
    assert chat.ask("delete my data") == ["This deletes this conversation and your feedback and health-check answers. Delete them?"]
    assert chat.enabled_buttons() == ["Yes, delete my data", "No, keep it"]

    chat.latest_replies().get_by_role("button", name="Yes, delete my data", exact=True).click()
    # Everything before the confirmation leaves the page and the tab's storage; a new session is taken.
    chat.page.wait_for_function("""() => { const s = JSON.parse(sessionStorage.getItem('partnership-advisor.chat'));
        return s && s.token && document.querySelectorAll('#log .chat-msg').length === 1; }""")
    [confirmation] = chat.transcript()
    assert confirmation.startswith("Partnership Advisor said: Done: I've deleted this conversation")
    stored = chat.page.evaluate("() => JSON.parse(sessionStorage.getItem('partnership-advisor.chat'))")
    assert [m["text"] for m in stored["messages"]] == [confirmation.split(": ", 1)[1]]
    new = chat.session_id()
    assert new != old and advisor.user_messages(web_id(old)) == []  # gone from the tracker store too
    assert chat.page.locator("#message").evaluate("e => e === document.activeElement")  # focus stays in the input

    # The next question is a new conversation; a reload shows only what came after the deletion.
    assert chat.ask("what are the benefits?")
    assert advisor.user_messages(web_id(new), expect=["what are the benefits?"]) == ["what are the benefits?"]
    before_reload = chat.transcript()
    chat.page.reload()
    chat.page.locator("#log .chat-msg").nth(len(before_reload) - 1).wait_for()
    assert chat.transcript() == before_reload and before_reload[:2] == [confirmation, "You said: what are the benefits?"]
    assert advisor.user_messages(web_id(old)) == [] and chat.errors == []


def focus(chat: Chat) -> dict:
    """The focused element and whether its focus indicator is visible."""
    return chat.page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        return {id: e.id, tag: e.tagName, text: e.innerText || '', disabled: !!e.disabled,
                visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }""")


def test_keyboard_alone_reaches_the_chat_sends_and_uses_reply_buttons(chat: Chat) -> None:
    keys = chat.page.keyboard
    chat.open()

    # Reach the message box with Tab alone; every stop on the way shows where focus is.
    for _ in range(15):
        keys.press("Tab")
        assert focus(chat)["visible"], focus(chat)
        if focus(chat)["id"] == "message":
            break
    assert focus(chat)["id"] == "message"

    before = chat.bot_count()
    keys.type(CHALLENGE)
    keys.press("Enter")
    chat.answer_after(before)
    assert focus(chat)["id"] == "message"  # new messages never take focus away

    # The first idea and, under it, the sector question: Shift+Tab goes back through the question's
    # buttons, then the idea's, each a visibly focused button; Escape returns to the message box.
    for title in reversed(CHALLENGE_BUTTONS + SECTOR_BUTTONS):
        keys.press("Shift+Tab")
        assert focus(chat) == {"id": "", "tag": "BUTTON", "text": title, "disabled": False, "visible": True}
    keys.press("Escape")
    assert focus(chat)["id"] == "message"

    # The last reply button, the question's "Pharmacy", is one Shift+Tab away: it answers the question.
    keys.press("Shift+Tab")
    assert focus(chat) == {"id": "", "tag": "BUTTON", "text": "Pharmacy", "disabled": False, "visible": True}
    before = chat.bot_count()
    keys.press("Enter")
    thanks, *tailored = chat.answer_after(before)
    # (No idea on funding is tagged for pharmacy: the next one is said to be general.)
    assert thanks.startswith("Thanks, I'll tailor my advice for pharmacy where I can") and tailored[0].startswith("Another idea on funding: ")
    assert focus(chat)["id"] == "message"

    # Back through each reply button of the answer (Shift+Tab), each a visibly focused button.
    for title in reversed(CHALLENGE_BUTTONS):
        keys.press("Shift+Tab")
        assert focus(chat) == {"id": "", "tag": "BUTTON", "text": title, "disabled": False, "visible": True}
    count = chat.bot_count()
    keys.press("Enter")  # "How do I do that?"
    assert focus(chat)["id"] == "message"  # activation returns to the input before the button is disabled
    assert chat.answer_after(count)[0].startswith("How to put \u201c")
    assert focus(chat)["id"] == "message"

    # Space activates a reply button too, and the answer arrives with focus kept in the input.
    keys.press("Shift+Tab")
    assert focus(chat)["tag"] == "BUTTON" and not focus(chat)["disabled"]
    count = chat.bot_count()
    keys.press("Space")
    assert focus(chat)["id"] == "message"
    chat.answer_after(count)
    assert focus(chat)["id"] == "message"
    keys.press("Tab")
    assert focus(chat)["text"] == "Send" and focus(chat)["visible"]


def test_screen_readers_get_a_polite_log_named_messages_real_buttons_and_labels(chat: Chat) -> None:
    chat.open()
    chat.ask_challenge()
    page = chat.page
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.title()

    # The accessibility tree as Chromium exposes it to screen readers.
    cdp = chat.context.new_cdp_session(page)
    nodes = [n for n in cdp.send("Accessibility.getFullAXTree")["nodes"] if not n.get("ignored")]

    def props(node: dict) -> dict:
        return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}

    [log] = [n for n in nodes if n["role"]["value"] == "log"]
    # (GOV.UK's visually hidden text is padded with no-break spaces, which screen readers skip.)
    assert log["name"]["value"].strip() == "Conversation with Partnership Advisor"
    assert props(log)["live"] == "polite" and props(log)["relevant"] == "additions"
    [textbox] = [n for n in nodes if n["role"]["value"] == "textbox"]
    assert textbox["name"]["value"] == "Your message"  # from its <label>, not a placeholder
    assert [s for s in nodes if s["role"]["value"] == "status"], "typing and connection news need a status region"

    tree = page.locator("#log").aria_snapshot()
    assert f'paragraph: "You said: {CHALLENGE}"' in tree
    assert 'paragraph: "Partnership Advisor said: Hello!' in tree
    assert 'paragraph: "Partnership Advisor said: That sounds like the' in tree
    assert 'paragraph: "Partnership Advisor said: So I can fit my next ideas to you: which sector do you work in?' in tree
    for title in CHALLENGE_BUTTONS + SECTOR_BUTTONS:
        assert f'button "{title}"' in tree
    # Reply buttons are real <button>s; the person's own messages are a live region switched off,
    # so only the advisor's new messages are announced (CDP does not report aria-live="off").
    assert page.locator("#log .chat-replies > *").evaluate_all("els => els.every(e => e.tagName === 'BUTTON' && e.type === 'button')")
    assert page.locator("#log .chat-msg--user").evaluate_all("els => els.every(e => e.getAttribute('aria-live') === 'off')")
    assert page.locator("#log .chat-msg--bot").evaluate_all("els => els.every(e => !e.closest('[aria-live=off]'))")
    # Each message is an article named by who said what, for reading message by message.
    articles = [n for n in nodes if n["role"]["value"] == "article"]
    assert len(articles) == page.locator("#log .chat-msg").count() >= 4
    assert {a["name"]["value"].strip().split(": ")[0] for a in articles} == {"Partnership Advisor said", "You said"}


@pytest.mark.parametrize(
    "width,height,scale",
    [(320, 640, 1), (375, 667, 3), (640, 360, 2)],  # WCAG reflow width; a phone; 1280x720 at 200 % zoom
    ids=["320px", "phone", "200%-zoom"],
)
def test_reflows_without_horizontal_scrolling(browser: Any, advisor: RunningAdvisor, width: int, height: int, scale: int) -> None:
    chat = Chat(browser, advisor, viewport={"width": width, "height": height}, device_scale_factor=scale)
    try:
        chat.open()
        assert chat.no_horizontal_scroll()
        chat.ask("where does this advice come from?")  # long lines and a long URL
        chat.ask(CHALLENGE)  # the first idea and the sector question, each with its buttons
        assert chat.no_horizontal_scroll()
        for selector in ("#message", "#composer button", "#log .chat-replies button:enabled"):
            box = chat.page.locator(selector).last.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
        assert chat.click("Health / NHS")  # buttons work at this width
        assert chat.no_horizontal_scroll()
        if width == 375:
            chat.page.screenshot(path=str(RESULTS / "webchat-phone.png"))
    finally:
        chat.close()


@pytest.mark.parametrize("motion,animation", [("reduce", "none"), ("no-preference", "typing-blink")])
def test_typing_indicator_is_still_when_less_motion_is_asked(browser: Any, advisor: RunningAdvisor, motion: str, animation: str) -> None:
    chat = Chat(browser, advisor, reduced_motion=motion)
    try:
        chat.open()
        dots = chat.page.locator("#typing .chat-typing__dot")
        assert dots.count() == 3
        assert set(dots.evaluate_all("els => els.map(e => getComputedStyle(e).animationName)")) == {animation}
    finally:
        chat.close()


def test_page_is_served_with_a_strict_content_security_policy(advisor: RunningAdvisor) -> None:
    import urllib.request

    with urllib.request.urlopen(advisor.base_url + launch.WEB_CHAT_PATH, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
        page = response.read().decode()
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "unsafe" not in policy
    # Everything the page loads is local: no absolute URL to another host.
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)


# --- The GOV.UK Frontend page (issue 18) ---------------------------------------------------------

FIRST_SCREEN_SIZES = [(1280, 800), (375, 740), (320, 568)]  # a laptop, a phone, WCAG's reflow width


def only_this_server(chat: Chat) -> bool:
    port = chat.advisor.rasa_port
    return bool(chat.requests) and all(re.match(rf"(http|ws)://127\.0\.0\.1:{port}/", url) for url in chat.requests)


def report_violations(states: dict[str, list[dict]]) -> list[str]:
    report = []
    for state, violations in states.items():
        print(f"[measured] axe-core {AXE_TAGS}, {state}: {len(violations)} violation(s)")
        for v in violations:
            report.append(f"[{state}] {v['id']} ({v['impact']}): {v['help']}")
            report += [f"    {node['target']}: {node['summary']}" for node in v["nodes"]]
    return report


@pytest.mark.parametrize("width,height", FIRST_SCREEN_SIZES, ids=[f"{w}x{h}" for w, h in FIRST_SCREEN_SIZES])
def test_the_message_box_is_on_the_first_screen_and_the_conversation_fills_the_rest(
    browser: Any, advisor: RunningAdvisor, width: int, height: int
) -> None:
    chat = Chat(browser, advisor, viewport={"width": width, "height": height})
    try:
        chat.open()
        page = chat.page
        assert page.evaluate("() => window.scrollY") == 0
        header, log = page.locator("header").bounding_box(), page.locator("#log").bounding_box()
        message, send = page.locator("#message").bounding_box(), page.locator("#composer button").bounding_box()
        print(f"[measured] {width}x{height}: message box top {message['y']:.0f} px, bottom {message['y'] + message['height']:.0f} px; "
              f"conversation {log['height']:.0f} px high ({log['height'] / height:.0%} of the screen)")
        for box in (message, send):
            assert 0 <= box["y"] and box["y"] + box["height"] <= height, (box, height)
        # The conversation takes what the header, heading and message box leave: no page scrolling.
        assert header["y"] + header["height"] <= log["y"] and log["y"] + log["height"] < message["y"]
        assert page.evaluate("() => document.querySelector('.chat-screen').getBoundingClientRect().bottom") <= height + 1
        assert log["height"] >= 0.3 * height
        # Header, phase banner and footer of a service that is not on GOV.UK: no crown, no logotype.
        assert page.locator(".govuk-generic-header").inner_text().strip() == "Partnership Advisor"
        assert "Beta" in page.locator(".govuk-phase-banner").inner_text()
        assert page.locator("svg, .govuk-header, .govuk-footer__crown, .govuk-footer__copyright-logo").count() == 0
        assert page.locator(".govuk-footer a").all_inner_texts() == [
            "Privacy notice", "Accessibility statement", "Contact", "Report a problem"]
        fonts = page.evaluate("() => [...new Set([...document.querySelectorAll('body *')].map(e => getComputedStyle(e).fontFamily))]")
        assert fonts and not any("GDS Transport" in f for f in fonts), fonts
        # Shown after an answer: the screenshots of the README (docs/).
        chat.ask_challenge()
        chat.click("How do I do that?")
        assert page.evaluate("() => window.scrollY") == 0 and page.locator("#message").bounding_box()["y"] + 40 <= height
        RESULTS.mkdir(exist_ok=True)
        page.mouse.move(0, height - 1)  # no hover on a button in the picture
        page.screenshot(path=str(RESULTS / f"webchat-{width}x{height}.png"))
        assert only_this_server(chat), chat.requests
    finally:
        chat.close()


def test_lines_become_lists_and_leads_and_stay_text(chat: Chat) -> None:
    sockets: list[Any] = []
    chat.page.route_web_socket(re.compile(r"/socket\.io/"), lambda ws: (ws.connect_to_server(), sockets.append(ws)))
    chat.open()
    text = ("Before you start:\n3. <b>third</b> step\n4. fourth, see https://example.org/a.\n"
            "A plain line\n• one\n  with more\n• <script>two</script>\nThe end:")
    before = chat.bot_count()
    sockets[0].send("42" + json.dumps(["bot_uttered", {"text": text}]))
    chat.wait_for_bot_messages(before + 1)
    message = chat.page.locator("#log .chat-msg--bot").last
    assert chat.message_text(message) == text  # every line kept, as text
    blocks = message.locator(".chat-msg__text > *").evaluate_all("els => els.map(e => e.tagName + (e.className ? '.' + e.className : ''))")
    assert blocks == ["P.chat-msg__lead", "OL.govuk-list govuk-list--number", "P", "UL.govuk-list govuk-list--bullet", "P"]
    assert message.locator("ol").get_attribute("start") == "3"
    assert message.locator("ol").get_attribute("aria-labelledby") == message.locator(".chat-msg__lead").get_attribute("id")
    assert message.locator("ul").get_attribute("aria-labelledby") is None  # "A plain line" does not end in ":"
    assert message.locator("ol > li").all_inner_texts()[0] == "<b>third</b> step"
    assert message.locator("ul > li").all_inner_texts() == ["one\nwith more", "<script>two</script>"]
    assert message.locator("b, script").count() == 0 and chat.dialogs == []
    assert [a.get_attribute("href") for a in message.locator("a").all()] == ["https://example.org/a"]
    tree = message.aria_snapshot()
    assert "- list:" in tree and "- listitem:" in tree


def test_transcript_is_read_message_by_message_with_the_keyboard(chat: Chat) -> None:
    chat.open()
    chat.ask_challenge()
    page, keys = chat.page, chat.page.keyboard
    names = page.locator("#log .chat-msg").evaluate_all(
        "els => els.map(e => document.getElementById(e.getAttribute('aria-labelledby')).textContent)")
    # The welcome, the challenge, then the answer: the first idea (in parts) and the sector question under it.
    assert [n.split(": ")[0] for n in names] == ["Partnership Advisor said", "You said"] + ["Partnership Advisor said"] * (len(names) - 2)
    assert len(names) >= 4 and "Try this: " in " ".join(names[2:-1]) and "which sector do you work in?" in names[-1]

    def focused() -> dict:
        return page.evaluate("""() => { const e = document.activeElement, log = document.getElementById('log').getBoundingClientRect(),
            r = e.getBoundingClientRect(), s = getComputedStyle(e);
            const label = e.getAttribute('aria-labelledby');
            return {id: e.id, role: e.getAttribute('role') || e.tagName.toLowerCase(), text: e.textContent,
                    name: label ? document.getElementById(label).textContent : '',
                    index: [...document.querySelectorAll('#log .chat-msg')].indexOf(e),
                    ring: s.boxShadow !== 'none' || s.outlineColor !== 'rgba(0, 0, 0, 0)',
                    seen: r.bottom > log.top + 4 && r.top < log.bottom - 4}; }""")

    # The message box is one Shift+Tab past the reply buttons from the transcript; Tab reaches it from the top.
    page.locator("#log").focus()
    keys.press("ArrowUp")  # from the transcript: the latest message
    last = len(names) - 1
    assert focused()["index"] == last and focused()["name"] == names[last] and focused()["ring"] and focused()["seen"]
    for expected in range(last - 1, -1, -1):
        keys.press("ArrowUp")
        state = focused()
        assert state["index"] == expected and state["name"] == names[expected], state
        assert state["seen"] and state["ring"], state  # focus is never hidden: the message is scrolled into view
    keys.press("ArrowUp")
    assert focused()["index"] == 0  # stays on the first
    keys.press("End")
    assert focused()["index"] == last and focused()["seen"]
    keys.press("ArrowDown")
    assert focused()["id"] == "log-end" and focused()["text"] == "End of chat history" and focused()["seen"]
    keys.press("ArrowDown")
    assert focused()["id"] == "log-end"
    keys.press("Home")
    assert focused()["index"] == 0 and focused()["seen"]
    keys.press("ArrowDown")
    assert focused()["index"] == 1 and focused()["name"].startswith("You said: ")
    keys.press("Escape")
    assert focused()["id"] == "message"
    # Esc from a reply button inside the transcript too; Tab leaves a message for its buttons as usual.
    page.locator("#log .chat-replies button:enabled").first.focus()
    keys.press("Escape")
    assert focused()["id"] == "message"
    # How to do all this is said on the page, and the transcript describes it to screen readers.
    help_text = page.locator("#log-keys").text_content()
    assert "Arrow keys" in help_text and "Escape" in help_text and page.locator("#log").get_attribute("aria-describedby") == "log-keys"
    assert "End of chat history" in page.locator("aside").inner_text() and "New messages" in page.locator("aside").inner_text()


def test_new_messages_wait_behind_a_button_while_the_person_reads_further_up(chat: Chat) -> None:
    sockets: list[Any] = []
    chat.page.route_web_socket(re.compile(r"/socket\.io/"), lambda ws: (ws.connect_to_server(), sockets.append(ws)))
    chat.open()
    chat.ask_challenge()
    chat.click("How do I do that?")
    page = chat.page
    button = page.locator("#new-messages")
    assert button.is_hidden()
    page.locator("#log").evaluate("log => { log.scrollTop = 0; }")  # the person scrolls up to read
    page.wait_for_timeout(200)
    before = chat.bot_count()
    sockets[0].send("42" + json.dumps(["bot_uttered", {"text": "A message that arrives while you read."}]))
    chat.wait_for_bot_messages(before + 1)
    assert button.is_visible()
    assert page.locator("#log").evaluate("log => log.scrollTop") == 0  # the text was not moved under them
    states = {"scrolled-up transcript with new messages waiting": chat.audit()}
    report = report_violations(states)
    assert not report, "\n".join(report)

    button.click()
    assert button.is_hidden()
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused.endswith("A message that arrives while you read.")
    new = page.locator("#log .chat-msg--bot").last.bounding_box()
    log = page.locator("#log").bounding_box()
    assert log["y"] <= new["y"] < log["y"] + log["height"]

    # Scrolling back to the bottom by hand hides it too; a message sent always follows the conversation.
    page.locator("#log").evaluate("log => { log.scrollTop = 0; }")
    page.wait_for_timeout(200)
    sockets[0].send("42" + json.dumps(["bot_uttered", {"text": "Another one."}]))
    button.wait_for(state="visible")
    page.locator("#log").evaluate("log => { log.scrollTop = log.scrollHeight; }")
    button.wait_for(state="hidden")
    assert only_this_server(chat) and chat.errors == []


HEALTH_CHECK_ANSWERS = [  # the question's name, the button clicked (or what is typed), the score shown
    ("Competition", "1 - not a problem", "1"), ("Authority", "5 - a serious problem", "5"), ("Purpose", "2", "2"),
    ("Communication", "4", "4"), ("Funding", "skip", "Skipped"), ("Culture clash", "3", "3"), ("Time", "2", "2"),
]


def test_the_health_check_result_is_a_chart_with_its_table(browser: Any, advisor: RunningAdvisor) -> None:
    chat = Chat(browser, advisor, viewport={"width": 1280, "height": 1000})
    try:
        check_health_check_chart(chat)
    finally:
        chat.close()


def check_health_check_chart(chat: Chat) -> None:
    chat.open()
    first = chat.ask("check our partnership")
    assert first[-1].startswith("Competition: ")
    for name, answer, _ in HEALTH_CHECK_ANSWERS:
        assert chat.page.locator("#log .chat-msg--bot").last.inner_text().find(f"{name}:") >= 0
        if answer == "skip":
            result = chat.ask(answer)
        else:
            result = chat.click(answer)
    assert result[0] == "Your health-check scores, challenge by challenge:"
    assert result[1].startswith("Thanks, that's the health check done.")  # the text result follows as before
    chart = chat.page.locator("#log .chat-msg--bot table.chat-scores")
    assert chart.count() == 1
    rows = chart.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('th').textContent, r.querySelector('.chat-scores__value').textContent])")
    assert [score for _, score in rows] == [
        "1 out of 5", "5 out of 5", "2 out of 5", "4 out of 5", "Skipped", "3 out of 5", "2 out of 5"]
    assert rows[0][0] == "Competition between organisations" and rows[-1][0] == "Time"
    assert chart.locator("th[scope=col]").all_inner_texts() == ["Challenge", "Score"]
    assert chart.locator("caption").inner_text().startswith("1 is not a problem, 5 a serious problem")
    # The bars repeat the numbers (hidden from screen readers); pressing ones are striped, not only darker.
    widths = chart.locator(".chat-scores__fill").evaluate_all(
        "els => els.map(e => Math.round(100 * e.getBoundingClientRect().width / e.parentElement.clientWidth))")
    assert widths == [20, 100, 40, 80, 0, 60, 40]
    assert chart.locator(".chat-scores__bar[aria-hidden=true]").count() == 7
    assert chart.locator(".chat-scores__fill--pressing").count() == 3
    RESULTS.mkdir(exist_ok=True)
    chat.page.screenshot(path=str(RESULTS / "webchat-health-check.png"))
    report = report_violations({"health-check result with its chart": chat.audit()})
    assert not report, "\n".join(report)
    # After a reload, the chart is still there (kept with the tab's copy of the conversation).
    chat.page.reload()
    chat.page.locator("#log table.chat-scores").wait_for()
    assert only_this_server(chat) and chat.errors == []


@pytest.mark.parametrize("path,title,headings", [
    ("accessibility.html", "Partnership Advisor: accessibility statement", [
        "Accessibility statement for Partnership Advisor", "What meets WCAG 2.2 AA", "Known limits",
        "Reporting accessibility problems", "Enforcement procedure", "Technical information"]),
    ("contact.html", "Partnership Advisor: contact", ["Contact", "Give feedback on an answer", "Report a problem", "Your data"]),
    ("privacy.html", "Partnership Advisor: privacy notice", [
        "Privacy notice", "What is kept", "For how long", "How to delete it now", "What is not done", "Questions"]),
])
def test_the_statement_contact_and_privacy_pages_are_govuk_pages_that_pass_axe(chat: Chat, path: str, title: str, headings: list[str]) -> None:
    chat.open()
    chat.page.locator(".govuk-footer").get_by_role("link", name={
        "accessibility.html": "Accessibility statement", "contact.html": "Contact", "privacy.html": "Privacy notice"}[path]).click()
    chat.page.wait_for_url(f"**/chat/{path}")
    assert chat.page.title() == title
    assert chat.page.locator("main h1, main h2").all_inner_texts() == headings
    assert chat.page.locator(".govuk-phase-banner").get_by_role("link", name="feedback").get_attribute("href") == "/chat/contact.html#feedback"
    assert "{{" not in chat.page.content()
    report = report_violations({f"/chat/{path}": chat.audit()})
    assert not report, "\n".join(report)
    chat.page.get_by_role("link", name="Back to the chat").click()
    chat.page.wait_for_url("**/chat/")
    assert only_this_server(chat)


def test_browser_send_to_reply_time(chat: Chat) -> None:
    """From Enter in the message box to the advisor's reply shown in the page, in this browser."""
    chat.open()
    chat.page.evaluate("""() => { window.sendTimes = []; window.replyTimes = [];
        document.getElementById('message').addEventListener('keydown', e => { if (e.key === 'Enter') sendTimes.push(performance.now()); }, true);
        new MutationObserver(records => { for (const r of records) for (const n of r.addedNodes)
            if (n.classList && n.classList.contains('chat-msg--bot')) replyTimes.push(performance.now()); })
            .observe(document.getElementById('log'), {childList: true}); }""")
    questions = ["what are the key principles?", "what are the benefits?", "what is partnership working?", "tell me about BCPP"] * 5
    for question in questions:
        chat.page.evaluate("() => { window.replyTimes.length = 0; }")
        chat.ask(question)
        chat.page.evaluate("() => { window.lastReply = (window.lastReply || []).concat([replyTimes[0] - sendTimes[sendTimes.length - 1]]); }")
    waits = sorted(chat.page.evaluate("() => window.lastReply"))
    p50, p90 = waits[len(waits) // 2], waits[int(len(waits) * 0.9)]
    print(f"[measured] browser send-to-reply (Enter to the reply's first message shown), n={len(waits)}: "
          f"p50 {p50:.0f} ms, p90 {p90:.0f} ms, max {waits[-1]:.0f} ms")
    assert p50 < 250


def test_the_stylesheet_is_built_from_govuk_frontend_with_a_system_font_and_no_assets() -> None:
    """web/chat.css is `npm run build:css` of web/chat.scss on the locked govuk-frontend: it must be current."""
    import shutil
    import subprocess

    css = (ROOT / "web" / "chat.css").read_text()
    assert "GDS Transport" not in css and "@font-face" not in css and "url(" not in css
    assert "system-ui" in css and ".govuk-generic-header" in css and ".chat-log" in css
    sass = ROOT / "node_modules" / "sass" / "sass.js"
    if not shutil.which("node") or not sass.exists():
        service_missing("web/chat.css not rebuilt: node or node_modules/sass is missing (make install runs npm ci)")
    built = subprocess.run(
        ["node", str(sass), "--no-source-map", "--style=compressed", "--load-path=node_modules", "web/chat.scss"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert built.strip() == css.strip(), "web/chat.css is out of date: run `npm run build:css`"


# --- Failure states (issue 15, finding 9) ---------------------------------------------------------

SECRET = "my grant is at risk"


@pytest.mark.parametrize("case", ["JavaScript off", "socket.io.min.js missing", "chat.js missing"])
def test_without_javascript_or_its_files_nothing_is_submitted_and_the_page_says_the_chat_cannot_start(
    browser: Any, advisor: RunningAdvisor, case: str
) -> None:
    chat = Chat(browser, advisor, java_script_enabled=case != "JavaScript off")
    try:
        page = chat.page
        if case != "JavaScript off":
            page.route(f"**/chat/{case.split()[0]}", lambda route: route.abort())
        page.goto(chat.url)
        notice = page.locator(".chat-unavailable").filter(visible=True)
        notice.first.wait_for()  # at once, or after a moment when chat.js itself is missing
        assert notice.count() == 1
        assert notice.inner_text().startswith("The chat cannot start: ")
        assert ("needs JavaScript" if case == "JavaScript off" else "did not load") in notice.inner_text()
        assert page.locator("#message").is_disabled() and page.locator("#send").is_disabled()
        if case != "JavaScript off":  # axe-core runs in the page: not without JavaScript
            report = report_violations({f"the chat cannot start ({case})": chat.audit()})
            assert not report, "\n".join(report)

        # Even with the box enabled by hand, Enter and Send submit nothing: the form goes nowhere.
        url = page.url
        page.locator("#composer").evaluate("form => form.querySelectorAll('input, button').forEach(e => { e.disabled = false; })")
        page.locator("#message").fill(SECRET)
        page.locator("#message").press("Enter")
        page.locator("#send").click()
        page.wait_for_timeout(500)
        assert page.url == url
        assert not [r for r in chat.requests if "grant" in r or "message=" in r], chat.requests
        assert page.locator("#message").input_value() == SECRET  # still there: nothing happened to it
        assert chat.errors == [] and only_this_server(chat)
    finally:
        chat.close()


PRINCIPLES = "what are the key principles?"


def connection_text(chat: Chat) -> str:
    return chat.page.locator("#connection").text_content()


def accessible_name(message: Any) -> str:
    return message.evaluate("e => e.getAttribute('aria-labelledby').split(' ').map(id => document.getElementById(id).textContent).join(' ')")


def test_a_message_sent_offline_is_marked_not_sent_and_retry_sends_it_once_the_connection_is_back(chat: Chat, advisor: RunningAdvisor) -> None:
    chat.open()
    page = chat.page
    chat.context.set_offline(True)  # the browser's "offline" event: the socket closes at once
    page.wait_for_function("() => document.getElementById('connection').textContent.startsWith('Cannot reach')")
    answers = chat.bot_count()

    page.locator("#message").fill(PRINCIPLES)
    page.locator("#message").press("Enter")
    mine = page.locator("#log .chat-msg--user").last
    assert mine.locator(".govuk-tag").inner_text() == "Not sent"
    assert mine.get_by_role("button", name="Retry", exact=True).is_visible()
    assert accessible_name(mine) == f"You said: {PRINCIPLES} Not sent"
    assert page.locator("#typing").is_hidden()  # nobody is typing an answer to it
    assert connection_text(chat) == "Cannot reach Partnership Advisor. Your message was not sent. Trying to reconnect…"
    assert page.locator("#message").evaluate("e => e === document.activeElement")
    report = report_violations({"offline, a message not sent": chat.audit()})
    assert not report, "\n".join(report)

    # A second one; Retry while still offline: it moves to the end and waits for the connection.
    page.locator("#message").fill("what are the benefits?")
    page.locator("#message").press("Enter")
    assert page.locator("#log .chat-msg--user .govuk-tag").all_inner_texts() == ["Not sent", "Not sent"]
    assert connection_text(chat) == "Cannot reach Partnership Advisor. 2 messages were not sent. Trying to reconnect…"
    page.locator("#log .chat-msg--user").nth(0).get_by_role("button", name="Retry").click()
    assert page.locator("#message").evaluate("e => e === document.activeElement")  # focus is not lost with the button
    assert chat.transcript()[-2:] == ["You said: what are the benefits?", f"You said: {PRINCIPLES}"]
    assert page.locator("#log .chat-msg--user .govuk-tag").all_inner_texts() == ["Not sent", "Waiting to send"]
    assert connection_text(chat) == ("Cannot reach Partnership Advisor. Your message was not sent. "
                                     "A message will be sent when the connection is back. Trying to reconnect…")
    page.wait_for_timeout(500)
    assert chat.bot_count() == answers

    # Back online: the waiting one is sent by itself, the other waits for its Retry.
    chat.context.set_offline(False)
    assert "openness, trust and honesty" in "\n".join(chat.answer_after(answers))
    assert page.locator("#log .chat-msg--user .govuk-tag").all_inner_texts() == ["Not sent"]
    assert connection_text(chat) == "Connected again. A message was not sent: use Retry to send it."
    answers = chat.bot_count()
    page.locator("#log .chat-msg--user").get_by_role("button", name="Retry").click()
    assert chat.answer_after(answers)
    assert page.locator("#log .chat-msg--user .govuk-tag, #log .chat-retry").count() == 0
    assert connection_text(chat) == ""
    assert chat.transcript()[-len(chat.answer_after(answers)) - 1] == "You said: what are the benefits?"
    # Each was received once, in the order it was finally sent.
    assert advisor.user_messages(web_id(chat.session_id()), expect=["/greet", PRINCIPLES, "what are the benefits?"]) == [
        "/greet", PRINCIPLES, "what are the benefits?"]
    assert chat.errors == []


def test_a_message_lost_with_the_connection_is_marked_not_sent(chat: Chat, advisor: RunningAdvisor) -> None:
    """Sent, but the connection dropped before the server had it: not shown as sent."""
    routes: list[Any] = []
    swallow = {"on": False}

    def through(ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda frame: None if swallow["on"] and "user_uttered" in str(frame) else server.send(frame))
        routes.append(ws)

    chat.page.route_web_socket(re.compile(r"/socket\.io/"), through)
    chat.open()
    page = chat.page
    answers = chat.bot_count()
    swallow["on"] = True
    page.locator("#message").fill(PRINCIPLES)
    page.locator("#message").press("Enter")
    page.wait_for_timeout(300)
    assert page.locator("#typing").is_visible() and page.locator("#log .chat-msg--user .govuk-tag").count() == 0
    routes[-1].close()  # the connection drops (a new one is opened at once)
    mine = page.locator("#log .chat-msg--user").last
    assert mine.locator(".govuk-tag").inner_text() == "Not sent"
    assert page.locator("#typing").is_hidden()
    page.wait_for_function("() => document.getElementById('connection').textContent.startsWith('Connected again.')")
    assert connection_text(chat) == "Connected again. A message was not sent: use Retry to send it."
    swallow["on"] = False
    mine.get_by_role("button", name="Retry").click()
    assert "openness, trust and honesty" in "\n".join(chat.answer_after(answers))
    assert advisor.user_messages(web_id(chat.session_id()), expect=["/greet", PRINCIPLES]) == ["/greet", PRINCIPLES]
    assert len(routes) == 2 and chat.errors == []


def test_the_connection_news_is_announced_once_per_change_not_at_every_retry(chat: Chat) -> None:
    failed_attempts: list[str] = []
    heard_from: set[str] = set()  # sockets the server talked on

    def watch(ws: Any) -> None:
        ws.on("socketerror", lambda error: failed_attempts.append(error))
        ws.on("framereceived", lambda frame: heard_from.add(ws.url))

    chat.page.on("websocket", watch)
    chat.open()
    page = chat.page
    # What the status region (role=status, polite) would have announced: each change of its text.
    page.evaluate("""() => { const status = document.getElementById('status'); window.statusChanges = [];
        new MutationObserver(records => statusChanges.push([records.length, status.innerText.trim()]))
            .observe(status, {childList: true, characterData: true, subtree: true}); }""")
    chat.context.set_offline(True)
    deadline = time.monotonic() + 40
    while len(failed_attempts) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(200)  # the socket tries again and again (1, 2, 4 s apart)
    assert len(failed_attempts) >= 3, failed_attempts
    heard_from.clear()
    chat.context.set_offline(False)
    deadline = time.monotonic() + 20
    while not heard_from and time.monotonic() < deadline:
        page.wait_for_timeout(200)  # until the socket is connected again
    page.wait_for_timeout(500)
    changes = page.evaluate("() => statusChanges")
    print(f"[measured] {len(failed_attempts)} failed reconnection attempts, status region changes: {changes}")
    assert changes == [[1, "Cannot reach Partnership Advisor. Trying to reconnect…"], [1, "Connected again."]]
    assert "openness, trust and honesty" in "\n".join(chat.ask(PRINCIPLES))  # and the chat works again
    assert chat.errors == []

def test_at_400_percent_zoom_the_newest_answer_is_scrolled_into_view(browser: Any, advisor: RunningAdvisor) -> None:
    # 1280x800 at 400 %: 320x200 CSS pixels. The page scrolls; the conversation is 140 px high.
    chat = Chat(browser, advisor, viewport={"width": 320, "height": 200}, device_scale_factor=4)
    try:
        chat.open()
        page = chat.page

        def check_answer_start(index: int) -> None:
            top = page.locator("#log .chat-msg--bot").nth(index).bounding_box()["y"]
            log = page.locator("#log").bounding_box()
            assert 0 <= top < 200 - 24, (index, top)  # in the window
            assert log["y"] <= top < log["y"] + log["height"] - 24, (index, top, log)  # and in the conversation

        for question in (PRINCIPLES, CHALLENGE):  # typed in the message box (scrolled into view), sent with Enter
            first = chat.bot_count()
            parts = chat.ask(question)
            check_answer_start(first)
        assert len(parts) > 1  # the challenge's answer in two parts (the idea, the sector question): shown from its start
        first = chat.bot_count()
        assert len(chat.click("Health / NHS")) > 1  # thanks, then the next idea: shown from its start
        check_answer_start(first)
        assert chat.no_horizontal_scroll()
    finally:
        chat.close()


def test_the_accessibility_statement_is_linked_from_the_chat_and_privacy_pages_and_covers_the_failure_states(chat: Chat) -> None:
    chat.open()
    page = chat.page
    assert page.locator(".govuk-footer").get_by_role("link", name="Accessibility statement").get_attribute("href") == "/chat/accessibility.html"
    page.goto(chat.url + "privacy.html")
    page.locator(".govuk-footer").get_by_role("link", name="Accessibility statement").click()
    page.wait_for_url("**/chat/accessibility.html")
    statement = " ".join(page.locator("main").inner_text().split())
    for said in ("“Not sent” with a Retry button", "the page says the chat cannot start", "not at every attempt to reconnect",
                 "at 400% zoom"):
        assert said.lower() in statement.lower(), said
