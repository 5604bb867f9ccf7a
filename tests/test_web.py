"""The web chat: its Socket.IO channel (signed sessions, origins) with python-socketio's client,
and the page in a real browser (Debian's chromium, headless, driven by Playwright) against the
real Rasa server and action server: the journey of issue 4 and the WCAG 2.2 AA checks of issue 9."""

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
from scripts import launch
from tests.conftest import ROOT, RunningAdvisor, service_missing

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RESULTS = ROOT / "results"
CHALLENGE = "one partner only joined for the grant"
CHALLENGE_BUTTONS = ["How do I do that?", "An example", "Another idea", "Sources", "A different problem"]
SECTOR_BUTTONS = ["Health / NHS", "Council", "Charity or community group", "Pharmacy", "Just tell me"]


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


@pytest.fixture(scope="session")
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
        return self.page.locator("#log .msg-bot").count()

    def wait_for_bot_messages(self, count: int) -> None:
        """Until at least `count` bot messages are shown and no more arrive (answers come in parts)."""
        self.page.locator("#log .msg-bot").nth(count - 1).wait_for()
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
        """The challenge question; the advisor asks once for the sector, and "Just tell me" skips it."""
        question = "\n".join(self.ask(CHALLENGE))
        assert "which sector do you work in?" in question and self.enabled_buttons() == SECTOR_BUTTONS
        return self.click("Just tell me")

    def click(self, title: str) -> list[str]:
        before = self.bot_count()
        self.latest_replies().get_by_role("button", name=title, exact=True).click()
        return self.answer_after(before)

    def answer_after(self, before: int) -> list[str]:
        self.wait_for_bot_messages(before + 1)
        return [self.message_text(m) for m in self.page.locator("#log .msg-bot").all()[before:]]

    @staticmethod
    def message_text(message: Any) -> str:
        return message.locator(".msg-text").text_content().split(": ", 1)[1]  # after "... said: "

    def transcript(self) -> list[str]:
        return [m.locator(".msg-text").text_content() for m in self.page.locator("#log .msg").all()]

    def latest_replies(self) -> Any:
        return self.page.locator("#log .msg-bot:has(.replies)").last

    def enabled_buttons(self) -> list[str]:
        return [b.inner_text() for b in self.page.locator("#log .replies button:enabled").all()]

    def session_id(self) -> str:
        return self.page.evaluate("() => JSON.parse(sessionStorage.getItem('partnership-advisor.chat')).token").split(".")[0]

    def no_horizontal_scroll(self) -> bool:
        return self.page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            " && document.getElementById('log').scrollWidth <= document.getElementById('log').clientWidth"
        )

    def audit(self) -> list[dict]:
        """axe-core's WCAG 2.2 A/AA violations of the page as it is now."""
        return self.page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
            }""",
            WCAG_22_AA,
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
    about = chat.page.locator("header").inner_text()
    assert "bot, not a person" in about and "content comes from" in about
    [welcome] = [chat.message_text(m) for m in chat.page.locator("#log .msg-bot").all()]
    assert welcome.startswith("Hello! I'm Partnership Advisor")
    assert chat.enabled_buttons() == ["Our reps can't sign anything off", "Common challenges", "The key principles", "Check our partnership"]
    assert chat.page.locator("#log .msg-user").count() == 0  # the greeting request is not shown as typed

    # A challenge question: the typing indicator shows while waiting, then the advice with buttons.
    chat.page.evaluate("""() => { window.typingShown = false;
        new MutationObserver(() => { if (!document.getElementById('typing').hidden) window.typingShown = true; })
            .observe(document.getElementById('typing'), {attributes: true}); }""")
    answer = "\n".join(chat.ask_challenge())
    assert "\u201cFunding\u201d challenge" in answer and "simply to access funding" in answer
    assert "Try this: " in answer and "Rests on:" in answer
    assert chat.page.evaluate("() => window.typingShown") is True
    assert chat.page.locator("#typing").is_hidden()
    assert chat.enabled_buttons() == CHALLENGE_BUTTONS  # the welcome's buttons are answered: disabled
    # The answer is shown from its start (it is longer than the log's height).
    log_box = chat.page.locator("#log").bounding_box()
    first_part = chat.page.locator("#log .msg-bot").nth(2).bounding_box()  # welcome, sector question, advice
    assert log_box["y"] <= first_part["y"] < log_box["y"] + 40, (log_box, first_part)
    RESULTS.mkdir(exist_ok=True)
    chat.page.screenshot(path=str(RESULTS / "webchat.png"), full_page=True)

    # A button click continues the conversation; its title is shown as the person's message.
    more = chat.click("Another idea")
    assert more[0].startswith("Another idea on funding")
    assert chat.transcript()[-len(more) - 1] == "You said: Another idea"

    # Links: only http(s), rendered as links that pass nothing on.
    sources = "\n".join(chat.ask("where does this advice come from?"))
    assert "http://www.kingsfund.org.uk/publications/articles/improving.html" in sources
    link = chat.page.locator("#log a[href='http://www.kingsfund.org.uk/publications/articles/improving.html']")
    assert link.count() == 1 and link.get_attribute("rel") == "noopener noreferrer"

    # Markup typed by a person is shown as text and never runs.
    injection = "<img src=x onerror=alert(1)>"
    chat.ask(injection)
    assert f"You said: {injection}" in chat.transcript()
    assert chat.page.locator("#log img, #log script").count() == 0
    assert chat.dialogs == [] and chat.errors == []

    # A reload keeps the conversation: same history, same server-side conversation, no new greeting.
    before_reload, session, buttons = chat.transcript(), chat.session_id(), chat.enabled_buttons()
    chat.page.reload()
    chat.page.locator("#log .msg").nth(len(before_reload) - 1).wait_for()
    assert chat.transcript() == before_reload
    assert chat.session_id() == session
    assert buttons and chat.enabled_buttons() == buttons  # the latest answer's, still usable
    chat.ask("what are the benefits?")
    time.sleep(0.5)  # Rasa saves the tracker just after answering
    texts = advisor.user_messages(web_id(session))
    assert texts[:2] == ["/greet", CHALLENGE] and texts[-1] == "what are the benefits?"
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

    message = chat.page.locator("#log .msg-bot").last
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
    assert chat.enabled_buttons() == CHALLENGE_BUTTONS
    states["after a challenge answer with buttons"] = chat.audit()
    chat.ask("check our partnership")  # whatever the health check shows, audited as it comes back
    states["during the health check"] = chat.audit()

    report = []
    for state, violations in states.items():
        print(f"axe (tags {', '.join(WCAG_22_AA)}), {state}: {len(violations)} violation(s)")
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
    [welcome] = [chat.message_text(m) for m in chat.page.locator("#log .msg-bot").all()]
    assert f"for {days} days after your last message" in welcome and '"delete my data"' in welcome

    chat.page.get_by_role("link", name="Privacy notice").click()
    chat.page.wait_for_url("**/chat/privacy.html")
    assert chat.page.title() == "Partnership Advisor: privacy notice"
    assert chat.page.locator("html").get_attribute("lang") == "en-GB"
    assert chat.page.locator("h1, h2").all_inner_texts() == [
        "Privacy notice", "What is kept", "For how long", "How to delete it now", "What is not done", "Questions"]
    notice = chat.page.locator("main").inner_text()
    assert f"deleted {days} days after your last message" in notice and "{{" not in notice
    violations = chat.audit()
    assert not violations, violations
    chat.page.get_by_role("link", name="Back to the chat").click()
    chat.page.wait_for_url("**/chat/")
    assert chat.page.locator("#log .msg").count() == 1  # the same tab's conversation, not a new one


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
        return s && s.token && document.querySelectorAll('#log .msg').length === 1; }""")
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
    chat.page.locator("#log .msg").nth(len(before_reload) - 1).wait_for()
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

    # Asked once for the sector: the last reply button, "Just tell me", is one Shift+Tab away.
    keys.press("Shift+Tab")
    assert focus(chat) == {"id": "", "tag": "BUTTON", "text": "Just tell me", "disabled": False, "visible": True}
    before = chat.bot_count()
    keys.press("Enter")
    chat.answer_after(before)
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
    assert log["name"]["value"] == "Conversation with Partnership Advisor"
    assert props(log)["live"] == "polite" and props(log)["relevant"] == "additions"
    [textbox] = [n for n in nodes if n["role"]["value"] == "textbox"]
    assert textbox["name"]["value"] == "Your message"  # from its <label>, not a placeholder
    assert [s for s in nodes if s["role"]["value"] == "status"], "typing and connection news need a status region"

    tree = page.locator("#log").aria_snapshot()
    assert f'paragraph: "You said: {CHALLENGE}"' in tree
    assert 'paragraph: "Partnership Advisor said: Hello!' in tree
    assert 'paragraph: "Partnership Advisor said: That sounds like the' in tree
    for title in CHALLENGE_BUTTONS:
        assert f'button "{title}"' in tree
    # Reply buttons are real <button>s; the person's own messages are a live region switched off,
    # so only the advisor's new messages are announced (CDP does not report aria-live="off").
    assert page.locator("#log .replies > *").evaluate_all("els => els.every(e => e.tagName === 'BUTTON' && e.type === 'button')")
    assert page.locator("#log .msg-user").evaluate_all("els => els.every(e => e.getAttribute('aria-live') === 'off')")
    assert page.locator("#log .msg-bot").evaluate_all("els => els.every(e => !e.closest('[aria-live=off]'))")


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
        chat.ask(CHALLENGE)  # the sector question and its buttons
        assert chat.no_horizontal_scroll()
        for selector in ("#message", "#composer button", "#log .replies button:enabled"):
            box = chat.page.locator(selector).last.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
        assert chat.click("Just tell me")  # buttons work at this width
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
        dots = chat.page.locator("#typing .dot")
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
