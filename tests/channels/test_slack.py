"""Slack, as Slack itself talks to the real Rasa server: Events API and interactivity payloads,
signed with the test signing secret. Answers go to a stand-in of Slack's Web API on loopback
(tests/slack_standin.py), the only fake."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import yaml

from channels.inputs import conversation_id
from server import launch
from tests.conftest import ROOT, RunningAdvisor
from channels.slack import DELIVERY_MEMORY_SECONDS, DeliveriesInMemory, DeliveriesInRedis
from tests.slack_standin import TEST_SIGNING_SECRET, TEST_TOKEN, SlackWebAPIStandIn

BOT_USER = "UBOTADVISOR"


def slack_id(user: str) -> str:
    """The id the tracker store keeps a Slack user's conversation under: "slack:<user id>"."""
    return conversation_id("slack", user)


def sign(body: bytes, timestamp: int, secret: str = TEST_SIGNING_SECRET) -> str:
    """Slack's request signature (https://api.slack.com/authentication/verifying-requests-from-slack)."""
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def deliver(advisor: RunningAdvisor | str, body: bytes, content_type: str, *, timestamp: int | None = None,
            signature: str | None = "sign", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """POST to the Slack webhook of the advisor (or the Rasa server at that base URL) as Slack
    does; signature="sign" signs correctly, None sends none."""
    base_url = advisor if isinstance(advisor, str) else advisor.base_url
    timestamp = int(time.time()) if timestamp is None else timestamp
    all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp), **(headers or {})}
    if signature == "sign":
        all_headers["X-Slack-Signature"] = sign(body, timestamp)
    elif signature is not None:
        all_headers["X-Slack-Signature"] = signature
    request = urllib.request.Request(f"{base_url}/webhooks/slack/webhook", data=body, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def message_event(text: str, user: str, channel: str, ts: str, *, kind: str = "message", thread_ts: str | None = None) -> bytes:
    """An Events API event_callback as Slack sends it for a direct message or a mention."""
    event = {"type": kind, "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
             "channel_type": "im" if kind == "message" else "channel"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps({
        "token": "unused-verification-token", "team_id": "T0TEST", "api_app_id": "A0TEST", "type": "event_callback",
        "event": event, "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0TEST", "user_id": BOT_USER, "is_bot": True}],
    }).encode()


def button_click(value: str, user: str, channel: str, message_ts: str, thread_ts: str) -> bytes:
    """An interactivity payload (block_actions) for a click on a button of a bot message in a thread."""
    payload = {
        "type": "block_actions", "user": {"id": user, "team_id": "T0TEST"}, "team": {"id": "T0TEST"},
        "channel": {"id": channel}, "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "message": {"type": "message", "user": BOT_USER, "bot_id": "B0TEST", "ts": message_ts, "thread_ts": thread_ts, "text": "..."},
        "actions": [{"type": "button", "action_id": "a1", "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "More advice on this"}, "action_ts": str(time.time())}],
        "response_url": "https://hooks.slack.invalid/unused",
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def buttons_of(post: dict) -> list[dict]:
    """The buttons of a posted message (Slack's blocks: each message carries its own)."""
    return [e for block in post.get("blocks") or [] if block["type"] == "actions" for e in block["elements"]]


def new_ids() -> tuple[str, str, str]:
    """A fresh user, DM channel and message ts, so tests never see each other's posts."""
    tag = uuid.uuid4().hex[:8].upper()
    return f"U{tag}", f"D{tag}", f"{int(time.time())}.{uuid.uuid4().int % 1_000_000:06d}"


def barrier(advisor: RunningAdvisor | str, slack_api: SlackWebAPIStandIn | None = None) -> None:
    """A valid question answered: anything delivered before it has been processed by now too."""
    user, channel, ts = new_ids()
    status, _, _ = deliver(advisor, message_event("what are the benefits?", user, channel, ts), "application/json")
    assert status == 200
    (slack_api or advisor.slack_api).wait_for(lambda p: p.get("channel") == channel)
    time.sleep(0.5)


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
SECOND_RETRY = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}


def acknowledged_without_retry(result: tuple[int, dict[str, str], str]) -> bool:
    status, headers, _ = result
    return status == 200 and {k.lower(): v for k, v in headers.items()}.get("x-slack-no-retry") == "1"


def test_signed_direct_message_is_answered_in_its_thread(advisor: RunningAdvisor) -> None:
    user, channel, ts = new_ids()
    status, _, _ = deliver(advisor, message_event("one partner only joined for the grant", user, channel, ts), "application/json")
    assert status == 200

    # Two messages, each with its own buttons: the first idea, then the sector question (asked once).
    [advice, question] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=2)
    for post in (advice, question):
        assert post["method"] == "chat.postMessage"
        assert post["auth"] == f"Bearer {TEST_TOKEN}"
        assert post["thread_ts"] == ts  # the reply starts a thread on the question
    assert "\u201cFunding\u201d challenge" in advice["text"] and "Try this: " in advice["text"]
    assert [e["value"] for e in buttons_of(advice)] == ["/ask_how", "/ask_example", "/ask_more", '/ask_sources{"option": "this"}', "/ask_challenges"]
    assert "which sector do you work in?" in question["text"]
    assert [e["text"]["text"] for e in buttons_of(question)] == ["Health / NHS", "Council", "Charity or community group", "Pharmacy"]

    # Follow-ups typed inside that thread are answered in the same thread, in one conversation:
    # the sector typed gives the next idea, picked for it.
    deliver(advisor, message_event("NHS", user, channel, f"{int(time.time())}.999998", thread_ts=ts), "application/json")
    [_, _, thanks, tailored] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=4)
    assert thanks["thread_ts"] == tailored["thread_ts"] == ts
    assert thanks["text"] == "Thanks, I'll tailor my advice for the health sector."
    assert tailored["text"].startswith("Another idea on funding") and "(suits the health sector)" in tailored["text"]

    deliver(advisor, message_event("more", user, channel, f"{int(time.time())}.999999", thread_ts=ts), "application/json")
    [*_, more] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=5)
    assert more["thread_ts"] == ts
    assert more["text"].startswith("Another idea on funding") and more["text"] != tailored["text"]


def test_mention_in_a_channel_is_answered_without_the_mention(advisor: RunningAdvisor) -> None:
    user, _, ts = new_ids()
    channel = "C" + user[1:]
    body = message_event(f"<@{BOT_USER}> what are the key principles?", user, channel, ts, kind="app_mention")
    assert deliver(advisor, body, "application/json")[0] == 200
    [post] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel)
    assert post["thread_ts"] == ts
    assert "openness, trust and honesty" in post["text"]
    assert advisor.user_messages(slack_id(user), expect=["what are the key principles?"]) == ["what are the key principles?"]


def test_button_click_continues_the_conversation_in_the_thread(advisor: RunningAdvisor) -> None:
    user, channel, ts = new_ids()
    deliver(advisor, message_event("one partner only joined for the grant", user, channel, ts), "application/json")
    [_, question] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=2)
    [charity] = [e["value"] for e in buttons_of(question) if e["text"]["text"] == "Charity or community group"]

    # A click on the sector question's "Charity or community group": the next idea on the same
    # challenge, picked for that sector.
    status, _, _ = deliver(advisor, button_click(charity, user, channel, question["ts"], ts), "application/x-www-form-urlencoded")
    assert status == 200
    [_, _, thanks, advice] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=4)
    assert thanks["text"] == "Thanks, I'll tailor my advice for the voluntary and community sector."
    assert advice["text"].startswith("Another idea on funding")  # the same conversation: it remembers the challenge
    assert "(suits the voluntary and community sector)" in advice["text"]
    assert thanks["thread_ts"] == advice["thread_ts"] == ts

    deliver(advisor, button_click("/ask_more", user, channel, advice["ts"], ts), "application/x-www-form-urlencoded")
    [*_, more] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=5)
    assert more["text"].startswith("Another idea on funding") and more["text"] != advice["text"]
    assert more["thread_ts"] == ts
    expected = ["one partner only joined for the grant", charity, "/ask_more"]
    assert advisor.user_messages(slack_id(user), expect=expected) == expected


def test_wrong_missing_or_stale_signatures_are_rejected_and_nothing_is_processed(advisor: RunningAdvisor) -> None:
    user, channel, ts = new_ids()
    body = message_event("one partner only joined for the grant", user, channel, ts)
    now = int(time.time())
    attempts = {
        "wrong secret": dict(signature=sign(body, now, secret="not-the-signing-secret")),
        "body changed after signing": dict(signature=sign(body.replace(b"grant", b"gift"), now)),
        "missing signature": dict(signature=None),
        "stale timestamp (10 minutes old), correctly signed": dict(timestamp=now - 600),
    }
    for name, options in attempts.items():
        if name.startswith("stale"):
            options["signature"] = sign(body, options["timestamp"])
        status, _, text = deliver(advisor, body, "application/json", **options)
        assert status == 400, f"{name}: {status} {text}"

    # A button click with a bad signature is rejected the same way.
    click = button_click("/ask_more", user, channel, ts, ts)
    assert deliver(advisor, click, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)[0] == 400

    barrier(advisor)
    assert advisor.slack_api.posts_where(lambda p: p.get("channel") == channel) == []
    assert advisor.user_messages(slack_id(user)) == []


def test_a_retry_is_acknowledged_but_not_answered_again(advisor: RunningAdvisor) -> None:
    user, channel, ts = new_ids()
    body = message_event("the other providers see us as rivals", user, channel, ts)
    assert deliver(advisor, body, "application/json")[0] == 200
    advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=2)  # the first idea, then the sector question

    # Slack re-sends the same event when it thinks the first delivery failed. Stock Rasa
    # answers again unless the reason is http_timeout; every reason must be dropped.
    for number, reason in ((1, "http_error"), (2, "http_timeout")):
        status, headers, _ = deliver(advisor, body, "application/json",
                                     headers={"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason})
        assert status == 200
        assert {k.lower(): v for k, v in headers.items()}.get("x-slack-no-retry") == "1"

    barrier(advisor)
    assert len(advisor.slack_api.posts_where(lambda p: p.get("channel") == channel)) == 2  # the one answer's two messages
    assert advisor.user_messages(slack_id(user), expect=["the other providers see us as rivals"]) == ["the other providers see us as rivals"]


def test_a_retry_of_a_delivery_that_never_arrived_is_answered_once(advisor: RunningAdvisor) -> None:
    """Slack's first delivery failed on the way (a proxy's 502, the server restarting), so its
    retry #1 is the first copy this server sees: it must be answered, and only once."""
    user, channel, ts = new_ids()
    text = "the other providers see us as rivals"
    body = message_event(text, user, channel, ts)
    assert deliver(advisor, body, "application/json", headers=RETRY)[0] == 200
    [answer, question] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=2)
    assert answer["thread_ts"] == question["thread_ts"] == ts
    assert "Try this: " in answer["text"] and "which sector do you work in?" in question["text"]

    # Retry #2 (Slack had not seen the acknowledgement in time): acknowledged, not answered again.
    assert acknowledged_without_retry(deliver(advisor, body, "application/json", headers=SECOND_RETRY))
    barrier(advisor)
    assert len(advisor.slack_api.posts_where(lambda p: p.get("channel") == channel)) == 2  # the one answer's two messages
    assert advisor.user_messages(slack_id(user), expect=[text]) == [text]


def test_a_replayed_request_is_not_answered_again(advisor: RunningAdvisor) -> None:
    """Someone who captured signed requests sends them again, byte for byte, within the five
    minutes their signatures are accepted: no retry header, the same event id or click."""
    user, channel, ts = new_ids()
    question = message_event("one partner only joined for the grant", user, channel, ts)
    captured = {"timestamp": int(time.time())}
    captured["signature"] = sign(question, captured["timestamp"])
    assert deliver(advisor, question, "application/json", **captured)[0] == 200
    [advice, _] = advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=2)  # the first idea, the sector question
    click = button_click("/ask_more", user, channel, advice["ts"], ts)  # "Another idea"
    click_captured = {"timestamp": int(time.time())}
    click_captured["signature"] = sign(click, click_captured["timestamp"])
    assert deliver(advisor, click, "application/x-www-form-urlencoded", **click_captured)[0] == 200
    advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=3)

    for _ in range(2):
        assert acknowledged_without_retry(deliver(advisor, question, "application/json", **captured))
        assert acknowledged_without_retry(deliver(advisor, click, "application/x-www-form-urlencoded", **click_captured))
    barrier(advisor)
    assert len(advisor.slack_api.posts_where(lambda p: p.get("channel") == channel)) == 3
    expected = ["one partner only joined for the grant", "/ask_more"]
    assert advisor.user_messages(slack_id(user), expect=expected) == expected

    # A real second click is a new delivery (new action_ts): answered.
    assert deliver(advisor, button_click("/ask_more", user, channel, advice["ts"], ts), "application/x-www-form-urlencoded")[0] == 200
    advisor.slack_api.wait_for(lambda p: p.get("channel") == channel, count=4)


def test_deliveries_are_remembered_for_the_retry_window_then_forgotten() -> None:
    now = [1000.0]
    seen = DeliveriesInMemory(clock=lambda: now[0])

    async def check() -> None:
        assert await seen.first_time("event:Ev1")
        assert not await seen.first_time("event:Ev1")
        now[0] += DELIVERY_MEMORY_SECONDS - 1
        assert not await seen.first_time("event:Ev1")  # still within Slack's retries and replay window
        assert await seen.first_time("event:Ev2")
        now[0] += 2
        assert await seen.first_time("event:Ev1")  # its window is over
        now[0] += DELIVERY_MEMORY_SECONDS + 1
        assert await seen.first_time("event:Ev3")
        assert list(seen._until) == ["event:Ev3"]  # older ones dropped: the memory stays bounded
        await seen.forget("event:Ev3")  # its processing failed: a retry is processed
        assert await seen.first_time("event:Ev3")

    asyncio.run(check())


def test_replicas_share_deliveries_through_the_lock_stores_redis() -> None:
    """With the Redis lock store, replicas remember deliveries in its Redis (tests/server/test_scale_out.py
    runs it through two Rasa servers)."""
    import redis

    from tests.servers import redis_address

    host, port = redis_address()
    delivery = f"event:Ev{uuid.uuid4().hex[:10]}"
    one, two = (DeliveriesInRedis(redis.Redis(host=host, port=port, db=1)) for _ in range(2))

    async def check() -> None:
        assert await one.first_time(delivery)
        assert not await two.first_time(delivery) and not await one.first_time(delivery)

    asyncio.run(check())
    ttl = redis.Redis(host=host, port=port, db=1).ttl(f"slack-delivery:{delivery}")
    assert DELIVERY_MEMORY_SECONDS - 60 < ttl <= DELIVERY_MEMORY_SECONDS


def test_url_verification_challenge_is_answered_when_signed(advisor: RunningAdvisor) -> None:
    body = json.dumps({"token": "unused", "challenge": "c-" + uuid.uuid4().hex, "type": "url_verification"}).encode()
    status, _, text = deliver(advisor, body, "application/json")
    assert status == 200 and json.loads(text) == json.loads(body)["challenge"]
    assert deliver(advisor, body, "application/json", signature=None)[0] == 400


def test_slack_channel_is_opened_only_when_token_and_secret_are_set(tmp_path: Path) -> None:
    def channels(**env: str) -> dict:
        path = launch.render_credentials(env, tmp_path / "credentials.yml")
        text = path.read_text()
        assert "'${" not in text and '"${' not in text  # quoted ${VAR}s would not be expanded by Rasa
        return yaml.safe_load(text)

    assert set(channels()) == {"channels.socketio.SignedSocketIOInput"}  # REST only with REST_TOKEN (tests/server/test_security.py)
    assert launch.SLACK_CHANNEL not in channels(SLACK_TOKEN="xoxb-1")
    assert launch.SLACK_CHANNEL not in channels(SLACK_SIGNING_SECRET="s")
    slack = channels(SLACK_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")[launch.SLACK_CHANNEL]
    assert slack == {"slack_token": "${SLACK_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}", "use_threads": True}


def test_manifest_points_slack_at_this_channel() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    settings = manifest["settings"]
    for url in (settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]):
        assert url.startswith("https://") and url.endswith("/webhooks/slack/webhook")
    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.im", "app_mention"}
    assert {"chat:write", "im:history", "app_mentions:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
