"""Speed and cost of the running advisor, side by side with the default-config bot (`make bench`).

For each bot (ours: config.yml; the peer: tools/rasa_default_config.yml, same domain and data):
a timed training from an empty cache, then the real action server and Rasa server started as
`make run` starts them (server/launch.py), on free loopback ports with their own stores. Then
conversations over the REST webhook at 1, 10 and 50 simultaneous conversations, a bounded
number of turns each. Reports p50/p95/p99 latency per turn type, throughput, errors, peak
memory of both servers, start-up time to the first reply and training time, and the targets of
issue 5. Then how a turn's cost grows with the conversation (issue 17): one conversation of 200
and one of 1,000 turns (a challenge, "more", a knowledge question, a second challenge, "thanks",
over and over), the p50 of turns 2-11 against the p50 of the last ten; and a burst of 50
conversations starting within the same 100 ms (`--bursts N`: N such bursts one after another
against the same server, each p95 reported, since one burst's p95 moves more from run to run
than its margin). Writes results/bench/report.md and report.json and prints the markdown.

    python -m tools.bench                        # the full run (two trainings, then both bots)
    python -m tools.bench --no-training          # reuse the current models; training not timed
    python -m tools.bench --levels 1:2:4 --bots ours   # a quick look while developing
    python -m tools.bench --no-training --levels 1:5:10 --long 200 --burst 50   # issue 17's measures
    python -m tools.bench --no-training --bots ours --levels 1:10:50 --long '' --bursts 6   # bursts alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from server import launch
from tools import peers

RESULTS = launch.ROOT / "results" / "bench"
TURN_TIMEOUT = 30.0  # seconds: a turn that takes longer counts as an error
LEVEL_TIMEOUT = 900.0  # seconds: turns not started by then count as errors
# (simultaneous conversations, conversations, turns each)
LEVELS = ((1, 20, 10), (10, 10, 10), (50, 50, 8))
LONG_TURNS = (200, 1000)  # one conversation of each length (issue 17)
BURST = 50  # conversations starting within the same 100 ms

# --- the conversations --------------------------------------------------------------------------
CHALLENGES = (
    "one partner only joined for the grant",
    "the people at our meetings can't sign anything off",
    "we have far too many meetings and people have stopped coming",
    "the other providers see us as rivals",
    "nobody remembers why we set this partnership up",
    "the council and the charities work in completely different ways",
    "it's taking forever to see any results",
)
KNOWLEDGE = (
    "what are the key principles?",
    "what are the benefits?",
    "what is partnership working?",
    "how does partnership help with health inequalities?",
    "tell me about BCPP",
    "where does this advice come from?",
)


@dataclass(frozen=True)
class Turn:
    kind: str
    message: str
    expect: str = ""  # text the reply should contain when the bot understood (empty: any reply)


def conversation(i: int) -> list[Turn]:
    """Even conversations ask for advice, odd ones run the health check. The sector is given first
    so the challenge is answered at once (otherwise the bot asks for it once): the advice turn is
    the turn that returns advice."""
    challenge = lambda k: CHALLENGES[(i + k) % len(CHALLENGES)]  # noqa: E731
    knowledge = lambda k: KNOWLEDGE[(i + k) % len(KNOWLEDGE)]  # noqa: E731
    if i % 2 == 0:
        return [
            Turn("greet", "hello"),
            Turn("context", "I work for an NHS trust"),
            Turn("advice", challenge(0), "Rests on:"),
            Turn("more", "/ask_more", "Another idea on"),
            Turn("knowledge", knowledge(0)),
            Turn("advice", challenge(3), "Rests on:"),
            Turn("more", "/ask_more", "Another idea on"),
            Turn("knowledge", knowledge(1)),
            Turn("advice", challenge(5), "Rests on:"),
            Turn("more", "/ask_more", "Another idea on"),
        ]
    return (
        [Turn("health_start", "check our partnership", "7 quick questions")]
        + [Turn("health_answer", "3")] * 6
        + [Turn("health_answer", "3", "Most pressing")]  # the seventh answer returns the result
        + [Turn("knowledge", knowledge(0)), Turn("knowledge", knowledge(2))]
    )


def long_conversation(turns: int) -> list[Turn]:
    """One conversation of `turns` turns (issue 17): the sector, then a cycle of a challenge, "more",
    a knowledge question, a second challenge and "thanks"."""
    cycle = []
    for k in range(len(CHALLENGES)):
        cycle += [
            Turn("advice", CHALLENGES[k], "Rests on:"),
            Turn("more", "/ask_more", "Another idea on"),
            Turn("knowledge", KNOWLEDGE[k % len(KNOWLEDGE)]),
            Turn("advice", CHALLENGES[(k + 3) % len(CHALLENGES)], "Rests on:"),
            Turn("thanks", "thanks"),
        ]
    return [Turn("context", "I work for an NHS trust")] + [cycle[i % len(cycle)] for i in range(turns - 1)]


def growth(ms: list[float], window: int = 10) -> dict:
    """p50 of turns 2-11 against p50 of the last ten turns (turn 1 starts the session: left out)."""
    first, last = percentile(ms[1:1 + window], 50), percentile(ms[-window:], 50)
    return {"turns": len(ms), "first_p50_ms": first, "last_p50_ms": last,
            "ratio": last / first if first and last is not None else None}


# --- statistics and the report (unit-tested in tests/tools/test_bench.py) ------------------------------
@dataclass
class Result:
    kind: str
    ms: float
    error: str = ""  # transport error, HTTP status, timeout or an empty reply: the person got nothing
    off_script: bool = False  # answered, but not with what the turn asked for


def growth_by_kind(results: list[Result], window: int = 100) -> float | None:
    """A steadier reading of growth than ten turns: for each kind of turn, the p50 of its turns in the
    last `window` against the first `window` (after turn 1); the largest of those ratios. Ten turns
    at two places in the cycle are different kinds of turn, and ten samples move with the machine."""
    window = min(window, (len(results) - 1) // 2)  # a 200-turn conversation: its two halves
    if window < 20:
        return None
    first, last = results[1 : 1 + window], results[-window:]
    ratios = []
    for kind in {r.kind for r in first} & {r.kind for r in last}:
        before = percentile([r.ms for r in first if r.kind == kind], 50)
        after = percentile([r.ms for r in last if r.kind == kind], 50)
        if before and after is not None:
            ratios.append(after / before)
    return max(ratios, default=None)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating between the closest ranks (as numpy does)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(results: list[Result], seconds: float) -> dict:
    """Latency percentiles per turn type and over all turns (answered turns only), errors, throughput."""
    def stats(rs: list[Result]) -> dict:
        ms = [r.ms for r in rs if not r.error]
        return {
            "turns": len(rs), "errors": sum(bool(r.error) for r in rs), "off_script": sum(r.off_script for r in rs),
            **{f"p{q}_ms": percentile(ms, q) for q in (50, 95, 99)},
        }

    kinds = sorted({r.kind for r in results})
    answered = sum(not r.error for r in results)
    return {
        "seconds": round(seconds, 2),
        "turns_per_second": answered / seconds if seconds else 0.0,
        "error_messages": sorted({r.error for r in results if r.error})[:5],
        "all": stats(results),
        "by_type": {kind: stats([r for r in results if r.kind == kind]) for kind in kinds},
    }


def fmt(value, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def ratio(ours, theirs) -> str:
    return f"{ours / theirs:.2f}" if ours is not None and theirs else "–"


def long_ratio(bot: dict | None, turns: int):
    return ((bot or {}).get("long", {}).get(str(turns)) or {}).get("ratio")


def burst(bot: dict | None, key: str):
    return ((bot or {}).get("burst") or {}).get("all", {}).get(key)


def burst_spread(bot: dict | None) -> dict | None:
    """Every burst's p95 and their median (the first burst is the one `burst` reports)."""
    p95s = [b["all"]["p95_ms"] for b in (bot or {}).get("bursts", []) if b["all"]["p95_ms"] is not None]
    if len(p95s) < 2:
        return None
    return {"p95_ms": p95s, "median_p95_ms": percentile(p95s, 50), "met": sum(v <= 500 for v in p95s),
            "errors": sum(b["all"]["errors"] for b in bot["bursts"])}


def targets(ours: dict, default: dict | None) -> list[dict]:
    """Issue 5's speed and cost targets, each met or not (None: not measured in this run)."""
    def level(bot: dict | None, n: int) -> dict | None:
        return (bot or {}).get("levels", {}).get(str(n))

    def advice(bot: dict | None, key: str):
        return ((level(bot, 1) or {}).get("by_type", {}).get("advice") or {}).get(key)

    c50, default_c50 = level(ours, 50), level(default, 50)
    checks = [
        ("advice turn, concurrency 1: p50 <= 25 ms", advice(ours, "p50_ms"), lambda v: v <= 25),
        ("advice turn, concurrency 1: p95 <= 50 ms", advice(ours, "p95_ms"), lambda v: v <= 50),
        ("advice turn, concurrency 1: p50 <= half the default-config bot's",
         None if advice(default, "p50_ms") is None or advice(ours, "p50_ms") is None else advice(ours, "p50_ms") / advice(default, "p50_ms"),
         lambda v: v <= 0.5),
        ("50 simultaneous conversations: zero errors", c50 and c50["all"]["errors"], lambda v: v == 0),
        ("50 simultaneous conversations: p95 <= 500 ms", c50 and c50["all"]["p95_ms"], lambda v: v <= 500),
        ("50 simultaneous conversations: throughput >= 2x the default-config bot's",
         c50 and default_c50 and default_c50["turns_per_second"] and c50["turns_per_second"] / default_c50["turns_per_second"],
         lambda v: v >= 2),
        ("training <= 2 minutes", ours.get("training_seconds"), lambda v: v <= 120),
        ("start-up to first reply <= 25 s", ours.get("startup_seconds"), lambda v: v <= 25),
        ("Rasa server peak memory <= 1.2 GB", ours.get("peak_mb", {}).get("rasa"), lambda v: v <= 1200),
    ]
    return [{"target": name, "value": value, "met": None if value is None else bool(check(value))} for name, value, check in checks]


def growth_targets(ours: dict) -> list[dict]:
    """Issue 17's targets: a turn's cost flat over a long conversation, and a burst of conversations."""
    checks = [
        ("200-turn conversation: last ten turns' p50 <= 1.3x turns 2-11's", long_ratio(ours, 200), lambda v: v <= 1.3),
        ("1,000-turn conversation: last ten turns' p50 <= 1.5x turns 2-11's", long_ratio(ours, 1000), lambda v: v <= 1.5),
        ("50 conversations starting together: p95 <= 500 ms", burst(ours, "p95_ms"), lambda v: v <= 500),
        ("50 conversations starting together: zero errors", burst(ours, "errors"), lambda v: v == 0),
    ]
    return [{"target": name, "value": value, "met": None if value is None else bool(check(value))} for name, value, check in checks]


def markdown(report: dict) -> str:
    bots = report["bots"]
    ours, default = bots.get("ours"), bots.get("default")
    machine = report["machine"]
    lines = [
        "# make bench: speed and cost",
        "",
        f"{report['started']}; {machine['cpus']} CPUs, measured parallel capacity {machine.get('parallel_cores', '?')} cores, load average {machine['load_before']} before the run "
        f"(shared machine: absolute figures move with other work, ratios less); loopback REST webhook; "
        f"levels (simultaneous conversations, conversations, turns each): {report['levels']}; "
        f"turn limit {TURN_TIMEOUT:.0f} s; one unmeasured warm-up conversation of each kind.",
        "",
        "## Summary",
        "",
        "| figure | ours (config.yml) | default config | ours / default |",
        "|---|---:|---:|---:|",
    ]

    def row(name: str, pick, digits: int = 0) -> None:
        a, b = pick(ours) if ours else None, pick(default) if default else None
        lines.append(f"| {name} | {fmt(a, digits)} | {fmt(b, digits)} | {ratio(a, b)} |")

    def lvl(bot: dict, n: int) -> dict:
        return bot["levels"].get(str(n), {})

    row("training, s (empty cache)", lambda b: b.get("training_seconds"))
    row("start-up to first reply, s", lambda b: b.get("startup_seconds"), 1)
    row("peak memory, Rasa server, MB", lambda b: b.get("peak_mb", {}).get("rasa"))
    row("peak memory, action server, MB", lambda b: b.get("peak_mb", {}).get("actions"))
    for n in sorted({int(k) for bot in bots.values() for k in bot["levels"]}):
        row(f"concurrency {n}: advice turn p50, ms", lambda b: (lvl(b, n).get("by_type", {}).get("advice") or {}).get("p50_ms"))
        row(f"concurrency {n}: advice turn p95, ms", lambda b: (lvl(b, n).get("by_type", {}).get("advice") or {}).get("p95_ms"))
        row(f"concurrency {n}: all turns p95, ms", lambda b: lvl(b, n).get("all", {}).get("p95_ms"))
        row(f"concurrency {n}: throughput, turns/s", lambda b: lvl(b, n).get("turns_per_second"), 1)
        row(f"concurrency {n}: Rasa server CPU per turn, ms", lambda b: lvl(b, n).get("rasa_cpu_ms_per_turn"), 1)
        row(f"concurrency {n}: action server CPU per turn, ms", lambda b: lvl(b, n).get("actions_cpu_ms_per_turn"), 1)
        row(f"concurrency {n}: errors", lambda b: lvl(b, n).get("all", {}).get("errors"))
        row(f"concurrency {n}: off-script replies", lambda b: lvl(b, n).get("all", {}).get("off_script"))

    for n in sorted({int(k) for bot in bots.values() for k in bot.get("long", {})}):
        pick = lambda b, key: (b.get("long", {}).get(str(n)) or {}).get(key)  # noqa: E731
        row(f"{n}-turn conversation: turns 2-11 p50, ms", lambda b: pick(b, "first_p50_ms"), 1)
        row(f"{n}-turn conversation: last ten turns p50, ms", lambda b: pick(b, "last_p50_ms"), 1)
        row(f"{n}-turn conversation: last ten / turns 2-11", lambda b: pick(b, "ratio"), 2)
        row(f"{n}-turn conversation: each kind of turn, last 100 / first 100 turns (largest)", lambda b: pick(b, "by_kind_ratio"), 2)
        row(f"{n}-turn conversation: errors", lambda b: pick(b, "errors"))
    if any("burst" in bot for bot in bots.values()):
        row("conversations starting together: p50, ms", lambda b: burst(b, "p50_ms"))
        row("conversations starting together: p95, ms", lambda b: burst(b, "p95_ms"))
        row("conversations starting together: errors", lambda b: burst(b, "errors"))
    for key, bot in (("ours", ours), ("default", default)):
        spread = burst_spread(bot)
        if spread:
            lines.append(f"| {key}: {len(spread['p95_ms'])} bursts, each p95, ms | "
                         f"{', '.join(fmt(v) for v in spread['p95_ms'])} (median {fmt(spread['median_p95_ms'])}; "
                         f"{spread['met']} of {len(spread['p95_ms'])} <= 500 ms; {spread['errors']} errors) | | |")

    lines += ["", "## Targets (ours)", ""]
    for t in report["targets"]:
        verdict = "not measured" if t["met"] is None else "met" if t["met"] else "**not met**"
        measured = fmt(t["value"], 2) if isinstance(t["value"], float) else fmt(t["value"])
        lines.append(f"- {verdict}: {t['target']} (measured: {measured})")

    for key, title in (("ours", "Ours (config.yml)"), ("default", "Default config (rasa init)")):
        if key not in bots:
            continue
        bot = bots[key]
        lines += ["", f"## {title}: latency per turn type", "", f"Model {bot['model']}.", ""]
        for n, level in bot["levels"].items():
            lines += [
                f"Concurrency {n}: {level['all']['turns']} turns in {level['seconds']} s, "
                f"{level['turns_per_second']:.1f} turns/s, {level['all']['errors']} errors, {level['all']['off_script']} off-script"
                + (f" (errors: {'; '.join(level['error_messages'])})" if level["error_messages"] else ""),
                "",
                "| turn type | turns | p50 ms | p95 ms | p99 ms | errors | off-script |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            for kind, s in [*level["by_type"].items(), ("all", level["all"])]:
                lines.append(f"| {kind} | {s['turns']} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | {fmt(s['p99_ms'])} | {s['errors']} | {s['off_script']} |")
            lines.append("")
    lines += ["Errors: no reply (connection, HTTP status, timeout or an empty answer). Off-script: a reply, "
              "but not the expected kind (e.g. no advice on an advice turn: the bot understood something else)."]
    return "\n".join(lines) + "\n"


def write_report(report: dict, folder: Path = RESULTS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "report.md", folder / "report.json"
    md.write_text(markdown(report))
    js.write_text(json.dumps(report, indent=2))
    return md, js


# --- memory and CPU of the server processes -------------------------------------------------------
def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (a launcher may wrap the server)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for current in process_tree(pid):
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants: what a turn costs
    the server, which moves less than latency when other work shares the machine."""
    ticks = 0
    for current in process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


class PeakMemory(threading.Thread):
    """Samples the process trees every 0.25 s and keeps each one's peak."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak_kb = pids, {name: 0 for name in pids}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            for name, pid in self.pids.items():
                self.peak_kb[name] = max(self.peak_kb[name], tree_rss_kb(pid))

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.join()
        return {name: kb * 1024 / 1e6 for name, kb in self.peak_kb.items()}


# --- driving the servers -------------------------------------------------------------------------
def _spin(loops: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(loops):
        total += i
    return time.perf_counter() - started


def parallel_cores(loops: int = 10_000_000) -> float:
    """How many CPU-bound processes this machine runs at full speed at once: two spinning
    processes against one alone. 2.0 on two real cores; about 1.0 where the two CPUs the
    system reports share one core (seen on some virtual machines here), so that one Rasa
    server already takes all the machine can give and more workers would not help."""
    import multiprocessing

    alone = _spin(loops)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        started = time.perf_counter()
        pool.map(_spin, [loops, loops])
        together = time.perf_counter() - started
    return round(2 * alone / together, 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The REST channel opens only with a token (channels/rest.py): one for the servers each bench starts.
REST_TOKEN = secrets.token_hex(24)


async def say(session, url: str, sender: str, turn: Turn) -> Result:
    import aiohttp

    started = time.perf_counter()
    error, off_script = "", False
    try:
        async with session.post(url, json={"sender": sender, "message": turn.message},
                                headers={"Authorization": f"Bearer {REST_TOKEN}"},
                                timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)) as response:
            body = await response.json() if response.status == 200 else None
            if response.status != 200:
                error = f"HTTP {response.status}"
    except asyncio.TimeoutError:
        error = f"no reply within {TURN_TIMEOUT:.0f} s"
    except aiohttp.ClientError as exc:
        error = type(exc).__name__
    ms = (time.perf_counter() - started) * 1000
    if not error:
        text = "\n".join(m.get("text", "") for m in body or [])
        error = "" if body else "empty reply"
        off_script = bool(body) and turn.expect not in text
    return Result(turn.kind, ms, error, off_script)


async def run_level(url: str, simultaneous: int, conversations: int, turns: int, tag: str) -> dict:
    """`conversations` conversations, at most `simultaneous` at a time, each waiting for every reply."""
    import aiohttp

    results: list[Result] = []
    gate = asyncio.Semaphore(simultaneous)
    deadline = time.monotonic() + LEVEL_TIMEOUT

    async def one(i: int, session) -> None:
        async with gate:
            for turn in conversation(i)[:turns]:
                if time.monotonic() > deadline:
                    results.append(Result(turn.kind, 0.0, "level time limit"))
                    continue
                results.append(await say(session, url, f"{tag}-{i}", turn))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=simultaneous)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(i, session) for i in range(conversations)))
        return summarise(results, time.perf_counter() - started)


async def run_long(url: str, turns: int, tag: str) -> dict:
    """One conversation of `turns` turns, each waiting for its reply: how the turn's cost grows."""
    import aiohttp

    results = []
    async with aiohttp.ClientSession() as session:
        for turn in long_conversation(turns):
            results.append(await say(session, url, tag, turn))
    return {**growth([r.ms for r in results]), "by_kind_ratio": growth_by_kind(results),
            "errors": sum(bool(r.error) for r in results), "off_script": sum(r.off_script for r in results)}


async def run_burst(url: str, conversations: int, tag: str, spread: float = 0.1) -> dict:
    """`conversations` conversations whose first turns all start within `spread` seconds; each then
    carries on for three more turns (sector, a challenge, "more")."""
    import aiohttp

    results: list[Result] = []
    turns = long_conversation(4)

    async def one(i: int, session) -> None:
        await asyncio.sleep(spread * i / conversations)
        for turn in turns:
            results.append(await say(session, url, f"{tag}-{i}", turn))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conversations)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(i, session) for i in range(conversations)))
        return summarise(results, time.perf_counter() - started)


async def first_reply(url: str, process: subprocess.Popen, started: float, timeout: float = 300) -> float:
    """Seconds from `started` to the first successful REST reply."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"the Rasa server exited with {process.returncode} before replying")
            result = await say(session, url, "bench-startup", Turn("greet", "hello"))
            if not result.error:
                return time.monotonic() - started
            await asyncio.sleep(0.25)
    raise TimeoutError(f"no reply from {url} within {timeout:.0f} s")


async def bench_bot(name: str, model: Path, levels, training_seconds: float | None,
                    long_turns: tuple[int, ...] = (), burst: int = 0, bursts: int = 1) -> dict:
    """Start both servers for `model` with their own stores, measure, stop them."""
    from actions.store.loader import load

    workdir = RESULTS / name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    knowledge_url = f"sqlite:///{workdir / 'knowledge.db'}"
    load(url=knowledge_url)
    action_port, rasa_port = free_port(), free_port()
    env = launch.server_env(
        action_port,
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
        KNOWLEDGE_DB_URL=knowledge_url,
        TRACKER_STORE_URL=f"sqlite:///{workdir / 'tracker.db'}",
        SLACK_TOKEN="", SLACK_SIGNING_SECRET="",  # Slack stays closed: the bench talks REST only
        REST_TOKEN=REST_TOKEN,
    )
    credentials = launch.render_credentials(env, workdir / "credentials.yml")
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    print(f"\n[{name}] starting the action server and Rasa server with {model.name} (logs in {workdir.relative_to(launch.ROOT)}/)", flush=True)
    started = time.monotonic()
    actions = launch.start_action_server(action_port, env, log=workdir / "actions.log")
    rasa = launch.start_rasa_server(rasa_port, model, env, log=workdir / "rasa.log", credentials=credentials)
    memory = PeakMemory({"rasa": rasa.pid, "actions": actions.pid})
    memory.start()
    try:
        startup = await first_reply(url, rasa, started)
        launch.wait_for_http(f"http://127.0.0.1:{action_port}/health", actions)
        print(f"[{name}] first reply after {startup:.1f} s", flush=True)
        async with __import__("aiohttp").ClientSession() as session:  # warm-up, not measured
            for i in (0, 1):
                for turn in conversation(i):
                    await say(session, url, f"warm-up-{i}", turn)
        measured = {}
        for simultaneous, conversations, turns in levels:
            cpu, actions_cpu = tree_cpu_seconds(rasa.pid), tree_cpu_seconds(actions.pid)
            measured[str(simultaneous)] = level = await run_level(url, simultaneous, conversations, turns, f"{name}-c{simultaneous}")
            level["rasa_cpu_ms_per_turn"] = (tree_cpu_seconds(rasa.pid) - cpu) * 1000 / max(level["all"]["turns"], 1)
            level["actions_cpu_ms_per_turn"] = (tree_cpu_seconds(actions.pid) - actions_cpu) * 1000 / max(level["all"]["turns"], 1)
            print(f"[{name}] concurrency {simultaneous}: {level['all']['turns']} turns, p50 {fmt(level['all']['p50_ms'])} ms, "
                  f"p95 {fmt(level['all']['p95_ms'])} ms, {level['turns_per_second']:.1f} turns/s, {level['all']['errors']} errors, "
                  f"CPU a turn: Rasa server {level['rasa_cpu_ms_per_turn']:.1f} ms, action server {level['actions_cpu_ms_per_turn']:.1f} ms", flush=True)
        long = {}
        for n in long_turns:
            long[str(n)] = figures = await run_long(url, n, f"{name}-long{n}")
            print(f"[{name}] one conversation of {n} turns: p50 turns 2-11 {fmt(figures['first_p50_ms'], 1)} ms, last ten "
                  f"{fmt(figures['last_p50_ms'], 1)} ms, ratio {fmt(figures['ratio'], 2)} "
                  f"(each kind, last 100 / first 100: {fmt(figures['by_kind_ratio'], 2)}), {figures['errors']} errors", flush=True)
        all_bursts = []
        for k in range(bursts if burst else 0):
            all_bursts.append(measured_burst := await run_burst(url, burst, f"{name}-burst{k}"))
            print(f"[{name}] burst {k + 1} of {bursts}, {burst} conversations: p50 {fmt(measured_burst['all']['p50_ms'])} ms, "
                  f"p95 {fmt(measured_burst['all']['p95_ms'])} ms, {measured_burst['all']['errors']} errors", flush=True)
            await asyncio.sleep(1.0)  # the previous burst's last turns are done: each burst starts on a quiet server
    finally:
        launch.stop(rasa)
        launch.stop(actions)
        peak = memory.stop()
    return {
        "model": model.name, "training_seconds": training_seconds, "startup_seconds": startup,
        "peak_mb": peak, "levels": measured, "long": long, **({"burst": all_bursts[0], "bursts": all_bursts} if all_bursts else {}), "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def parse_levels(text: str) -> list[tuple[int, int, int]]:
    return [tuple(int(x) for x in part.split(":")) for part in text.split(",")]  # type: ignore[misc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-training", action="store_true", help="reuse the current models (training time not measured)")
    parser.add_argument("--bots", default="ours,default", help="which bots: ours, default or both (default)")
    parser.add_argument("--levels", type=parse_levels, default=LEVELS,
                        help="simultaneous:conversations:turns,... (default 1:20:10,10:10:10,50:50:8)")
    parser.add_argument("--long", type=lambda text: tuple(int(x) for x in text.split(",") if x), default=LONG_TURNS,
                        help="turns of the long conversations, comma-separated (default 200,1000; '' for none)")
    parser.add_argument("--burst", type=int, default=BURST, help="conversations starting within 100 ms (default 50; 0 for none)")
    parser.add_argument("--bursts", type=int, default=1, help="how many such bursts, one after another (default 1)")
    parser.add_argument("--model", type=Path, help="our bot's model file instead of the current one (to compare two)")
    args = parser.parse_args(argv)
    names = args.bots.split(",")
    report = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "parallel_cores": parallel_cores(), "load_before": [round(x, 2) for x in os.getloadavg()]},
        "levels": [list(level) for level in args.levels],
        "bots": {},
    }
    trainers = {"ours": launch.train, "default": peers.train_default_model}
    models, seconds = {}, {}
    for name in names:  # train first, so training never competes with a measurement
        if name == "ours" and args.model:
            models[name], seconds[name] = args.model.resolve(), None
        elif args.no_training:
            models[name], seconds[name] = trainers[name](), None
        else:
            print(f"[{name}] timed training from an empty cache...", flush=True)
            models[name], seconds[name] = peers.timed_training(trainers[name])
            print(f"[{name}] trained in {seconds[name]:.0f} s", flush=True)
    for name in names:
        report["bots"][name] = asyncio.run(bench_bot(name, models[name], args.levels, seconds[name], args.long, args.burst, args.bursts))
    report["targets"] = targets(report["bots"].get("ours", {}), report["bots"].get("default")) + growth_targets(report["bots"].get("ours", {}))
    md, js = write_report(report)
    print("\n" + md.read_text())
    print(f"Report: {md.relative_to(launch.ROOT)}, {js.relative_to(launch.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
