"""Practitioner conversations over REST (issue 13): the set in tests/practitioner/, written apart
from the training data by people's kinds (commissioners, charity managers, council officers,
pharmacists...), with follow-ups, practice questions, corrections and everyday requests.

Every turn's reply is read as a person would (tests/practitioner_checks.py). The figures go to
results/practitioner.json, which `make eval` prints; the test fails under 90 % of turns passed
or on a first answer to a challenge longer than 150 words.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import yaml

from tests.conftest import ROOT, RunningAdvisor
from tests.practitioner_checks import PRACTITIONER_DIR, kind_of, matches, words
from tests.servers import say, sender, texts

# Issue 13 asks for 90 % (of the locked set). The gates guard the committed figures, less a margin
# of about three points, so a change cannot lower them silently; raise them as the figures rise.
PASS_RATE = 0.95  # development set: 98.2 % on 2026-11-29 (third session)
SECOND_PASS_RATE = 0.91  # second development set: 74.9 % when first scored, 96.2 % on 2026-11-29 (third session)
THIRD_PASS_RATE = 0.92  # third development set: 84.5 % when first scored, 95.9 % on 2026-11-29 (third session)
FOURTH_PASS_RATE = 0.93  # fourth development set: 88.3 % when first scored, 96.5 % on 2026-11-29 (third session)
FIFTH_PASS_RATE = 0.9  # fifth development set: 84.4 % when first scored, 94.2 % on 2026-11-29 (third session)
SIXTH_PASS_RATE = 0.91  # sixth development set: 86.8 % when first scored, 93.8 % on 2026-11-29 (third session)
SEVENTH_PASS_RATE = 0.9  # seventh development set: 81.7 % when first scored, 93.0 % on 2026-11-29 (sixth session)
EIGHTH_PASS_RATE = 0.9  # eighth development set: 83.9 % when first scored, 93.0 % on 2026-11-29 (sixth session)
NINTH_PASS_RATE = 0.85  # ninth development set: 75.0 % when first scored, 88.4 % on 2026-11-29 (sixth session)
TENTH_PASS_RATE = 0.94  # tenth development set: 92.2 % when first scored, 97.4 % on 2026-11-29 (fifth session)
ELEVENTH_PASS_RATE = 0.92  # eleventh development set: 90.8 % when first scored, 95.2 % on 2026-11-29 (fifth session)
TWELFTH_PASS_RATE = 0.93  # twelfth development set: 89.9 % when first scored, 96.0 % on 2026-11-29 (fifth session)
THIRTEENTH_PASS_RATE = 0.81  # thirteenth development set: 79.6 % when first scored, 85.2 % on 2026-11-29 (eighth session)
FOURTEENTH_PASS_RATE = 0.87  # fourteenth development set: 86.2 % when first scored, 91.3 % on 2026-11-29 (eighth session)
FIFTEENTH_PASS_RATE = 0.83  # fifteenth development set: 75.5 % when first scored, 88.5 % on 2026-11-29 (eighth session)
SIXTEENTH_PASS_RATE = 0.88  # sixteenth development set: 87.5 % when first scored (84.7 % at the sixth session's start), 92.3 % on 2026-11-29 (seventh)
SEVENTEENTH_PASS_RATE = 0.82  # seventeenth development set: 79.7 % when first scored (77.6 % at the sixth session's start), 87.6 % on 2026-11-29 (eighth)
EIGHTEENTH_PASS_RATE = 0.87  # eighteenth development set: 82.2 % when first scored, 92.6 % on 2026-11-29 (eighth session)
NINETEENTH_PASS_RATE = 0.84  # nineteenth development set, held back in the seventh session: 86.0 % at its start, 87.2 % at its end; 89.5 % at the eighth's end
TWENTIETH_PASS_RATE = 0.88  # twentieth development set: 80.6 % when first scored, 92.3 % on 2026-11-29 (eighth session)
TWENTY_FIRST_PASS_RATE = 0.81  # twenty-first development set: 80.3 % at the seventh session's start, 83.4 % at its end, 84.9 % at the eighth's end
TWENTY_SECOND_PASS_RATE = 0.81  # twenty-second development set: 71.3 % when first scored, 84.1 % on 2026-11-29 (eighth session)
TWENTY_THIRD_PASS_RATE = 0.85  # twenty-third development set, held back in the eighth to fifteenth sessions: 88.1 % at the eighth's start, 88.5 % at its end, 89.3 % at the ninth's and tenth's ends, 90.1 % at the eleventh's, 91.3 % at the twelfth's to fourteenth's, 91.7 % at the fifteenth's
TWENTY_FOURTH_PASS_RATE = 0.92  # twenty-fourth development set: 89.2 % when first scored, 95.6 % on 2026-11-29 (ninth session)
TWENTY_FIFTH_PASS_RATE = 0.81  # twenty-fifth development set: 76.3 % on the ninth session's starting code, 84.6 % at its end
TWENTY_SIXTH_PASS_RATE = 0.87  # twenty-sixth development set, held back in the tenth to fifteenth sessions: 89.9 % at the tenth's start, 90.3 % at its end, 91.1 % at the eleventh's, 91.9 % at the twelfth's and thirteenth's, 92.7 % at the fourteenth's, 93.1 % at the fifteenth's
# The locked set's committed figure, less a margin (scored once per release).
TWENTY_SEVENTH_PASS_RATE = 0.91  # twenty-seventh development set, held back in the eleventh to fifteenth sessions: 94.2 % on the eleventh's starting and final code, 94.6 % at the twelfth's end, 95.0 % at the thirteenth's and fourteenth's, 95.9 % at the fifteenth's
TWENTY_EIGHTH_PASS_RATE = 0.82  # twenty-eighth development set: 79.5 % when first scored, 86.0 % on 2026-11-30 (thirteenth session), 88.3 % (fourteenth)
TWENTY_NINTH_PASS_RATE = 0.9  # twenty-ninth development set: 89.1 % when first scored, 93.3 % on 2026-11-30 (thirteenth session), 94.5 % (fourteenth)
THIRTIETH_PASS_RATE = 0.9  # thirtieth development set: 93.4 % when first scored (226/242; one turn later dropped as a leak), 96.3 % at the fourteenth session's end
THIRTY_FIRST_PASS_RATE = 0.86  # thirty-first development set: 88.6 % on the fourteenth session's starting code, 89.0 % when first scored part way through, 93.6 % at its end
THIRTY_SECOND_PASS_RATE = 0.87  # thirty-second development set: 83.0 % when first scored (fifteenth session, start), 89.9 % at its end
THIRTY_THIRD_PASS_RATE = 0.87  # thirty-third development set: 80.4 % when first scored (fifteenth session, part way through), 90.0 % at its end
THIRTY_FOURTH_PASS_RATE = 0.91  # thirty-fourth development set: 91.6 % on the fifteenth session's starting code, the same part way through, 94.8 % at its end
THIRTY_FIFTH_PASS_RATE = 0.87  # thirty-fifth development set: 85.9 % on the fifteenth session's starting code, 86.3 % part way through, 90.9 % at its end
THIRTY_SIXTH_PASS_RATE = 0.87  # thirty-sixth development set: 82.9 % when first scored (sixteenth session, start), 90.1 % at its end
THIRTY_SEVENTH_PASS_RATE = 0.82  # thirty-seventh development set: 78.3 % when first scored (sixteenth session, start), 84.6 % at its end
THIRTY_EIGHTH_PASS_RATE = 0.85  # thirty-eighth development set: 84.2 % on the sixteenth session's starting code and part way through, 88.3 % at its end
THIRTY_NINTH_PASS_RATE = 0.82  # thirty-ninth development set: 79.8 % on the sixteenth session's starting code and part way through, 84.3 % at its end
FORTIETH_PASS_RATE = 0.83  # fortieth development set: 81.9 % on the sixteenth session's starting code, 82.3 % part way through, 85.9 % at its end
FORTY_FIRST_PASS_RATE = 0.76  # forty-first development set: 76.9 % on the sixteenth session's starting code, 77.3 % part way through, 78.5 % at its end
FORTY_SECOND_PASS_RATE = 0.80  # forty-second development set, kept apart from the training data: 80.1 % on the seventeenth session's starting code, 82.9 % at its end
FORTY_THIRD_PASS_RATE = 0.85  # forty-third development set, kept apart from the training data: 88.0 % on the seventeenth session's starting code, 88.8 % at its end
FORTY_FOURTH_PASS_RATE = 0.84  # forty-fourth development set, a referee kept apart from the training data: 87.7 % on the twentieth session's starting code, 90.7 % at its end
LOCKED_PASS_RATE = 0.86  # 90.0 % at the twentieth release, 88.5 % at the nineteenth, 88.7 % at the eighteenth and seventeenth, 88.0 % at the sixteenth and fifteenth (2026-11-30), 88.2 % at the fourteenth, 88.0 % at the thirteenth, 87.5 % at the twelfth, 87.2 % at the eleventh, 86.4 % at the seventh to tenth (85.2 % at the fourth to sixth, 84.1 % at the third, 84.4 % at the second, 78.3 % when first scored)
FIRST_ANSWER_WORDS = 150


def play(advisor: RunningAdvisor, conversation: dict) -> list[dict]:
    who = sender("practitioner")
    results = []
    for turn in conversation["turns"]:
        reply = texts(say(advisor.base_url, turn["user"], who))
        results.append({
            "conversation": conversation["name"],
            "user": turn["user"],
            "expect": turn["expect"],
            "reply": reply,
            "passed": matches(turn["expect"], reply),
            "words": words(reply),
            "first_advice": "That sounds like the \u201c" in reply and "Try this:" in reply,
        })
    return results


def score(advisor: RunningAdvisor, set_file: str, results_file: str) -> dict:
    """Play every conversation of a set over REST; its figures, also written to results/."""
    conversations = yaml.safe_load((PRACTITIONER_DIR / set_file).read_text())["conversations"]
    with ThreadPoolExecutor(4) as pool:
        turns = [t for played in pool.map(lambda c: play(advisor, c), conversations) for t in played]
    passed = sum(t["passed"] for t in turns)
    lengths = sorted(t["words"] for t in turns)
    first_answers = [t["words"] for t in turns if t["first_advice"]]
    summary = {
        "set": set_file,
        "conversations": len(conversations),
        "turns": len(turns),
        "passed": passed,
        "pass_rate": round(passed / len(turns), 3),
        "conversations_all_passed": sum(
            all(t["passed"] for t in turns if t["conversation"] == c["name"]) for c in conversations
        ),
        "reply_words": {q: lengths[int(q / 100 * (len(lengths) - 1))] for q in (50, 90, 100)},
        "first_answer_words_max": max(first_answers, default=0),
        "failures": [
            {k: t[k] for k in ("conversation", "user", "expect")} | {"reply": t["reply"][:300], "read_as": sorted(kind_of(t["reply"]))}
            for t in turns if not t["passed"]
        ],
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / results_file).write_text(json.dumps(summary, indent=1))
    print(f"\n[measured] {set_file}: {passed}/{len(turns)} turns passed ({summary['pass_rate']:.1%}); "
          f"reply words p50/p90/max {summary['reply_words']}; first answers max {summary['first_answer_words_max']} words")
    return summary


def played_and_shown(advisor: RunningAdvisor, set_file: str, results_file: str, gate: float) -> None:
    """A development set: its misses printed (it is there to steer), its gates checked."""
    summary = score(advisor, set_file, results_file)
    for failure in summary["failures"][:15]:
        print(f"  MISS {failure['user']!r} expected {failure['expect']} read as {failure['read_as']}: {failure['reply'][:120]!r}")
    assert summary["first_answer_words_max"] <= FIRST_ANSWER_WORDS, "a first answer to a challenge is too long for a phone"
    assert summary["pass_rate"] >= gate, f"{summary['passed']}/{summary['turns']} practitioner turns passed"


def test_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The development set: looked at, and used to steer."""
    played_and_shown(advisor, "conversations.yml", "practitioner.json", PASS_RATE)


def test_second_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The second development set (conversations_dev2.yml), written by someone who had read
    neither the training data nor the other sets: looked at, and used to steer."""
    played_and_shown(advisor, "conversations_dev2.yml", "practitioner_dev2.json", SECOND_PASS_RATE)


def test_third_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The third development set (conversations_dev3.yml), written a release later the same way
    (55 kinds of people the first two sets barely had): looked at, and used to steer."""
    played_and_shown(advisor, "conversations_dev3.yml", "practitioner_dev3.json", THIRD_PASS_RATE)


def test_fourth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The fourth development set (conversations_dev4.yml), written the same way with longer
    conversations (chains of follow-ups, picks, a second problem, plans, health checks)."""
    played_and_shown(advisor, "conversations_dev4.yml", "practitioner_dev4.json", FOURTH_PASS_RATE)


def test_fifth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The fifth development set (conversations_dev5.yml), written the same way in the styles people
    really type in (phone typing, typos, second-language English, long stories, terse messages)."""
    played_and_shown(advisor, "conversations_dev5.yml", "practitioner_dev5.json", FIFTH_PASS_RATE)


def test_sixth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The sixth development set (conversations_dev6.yml), written the same way, mostly questions
    about doing partnership work beyond the seven challenges and terms asked in many forms."""
    played_and_shown(advisor, "conversations_dev6.yml", "practitioner_dev6.json", SIXTH_PASS_RATE)


def test_seventh_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The seventh development set (conversations_dev7.yml), written the same way about the middle
    and end of conversations (pushback, next steps, going back to an idea, late introductions)."""
    played_and_shown(advisor, "conversations_dev7.yml", "practitioner_dev7.json", SEVENTH_PASS_RATE)


def test_eighth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The eighth development set (conversations_dev8.yml), written the same way: first-time users'
    whole conversations, from the first problem through follow-ups, their sector and closing."""
    played_and_shown(advisor, "conversations_dev8.yml", "practitioner_dev8.json", EIGHTH_PASS_RATE)


def test_ninth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The ninth development set (conversations_dev9.yml), written the same way: the challenges told
    indirectly and emotionally, practice questions asked as worries, chat spellings."""
    played_and_shown(advisor, "conversations_dev9.yml", "practitioner_dev9.json", NINTH_PASS_RATE)


def test_tenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The tenth development set (conversations_dev10.yml), written the same way as a general
    mixture: 55 kinds of people, first messages, follow-ups, practice questions, corrections."""
    played_and_shown(advisor, "conversations_dev10.yml", "practitioner_dev10.json", TENTH_PASS_RATE)


def test_eleventh_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The eleventh development set (conversations_dev11.yml), written the same way by the four kinds
    of people issue 13 names: an NHS commissioner, a three-person charity's manager, a council
    officer on their first partnership and a community pharmacist."""
    played_and_shown(advisor, "conversations_dev11.yml", "practitioner_dev11.json", ELEVENTH_PASS_RATE)


def test_twelfth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twelfth development set (conversations_dev12.yml), written the same way: what is typed
    after the first answer, by 40 kinds of people in the four nations."""
    played_and_shown(advisor, "conversations_dev12.yml", "practitioner_dev12.json", TWELFTH_PASS_RATE)


def test_thirteenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirteenth development set (conversations_dev13.yml), written the same way: problems told
    through an incident, two problems at once, odd answers about who they are."""
    played_and_shown(advisor, "conversations_dev13.yml", "practitioner_dev13.json", THIRTEENTH_PASS_RATE)


def test_fourteenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The fourteenth development set (conversations_dev14.yml), written the same way as a balanced
    general mixture with every kind of turn, by 60 kinds of people in the four nations."""
    played_and_shown(advisor, "conversations_dev14.yml", "practitioner_dev14.json", FOURTEENTH_PASS_RATE)


def test_fifteenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The fifteenth development set (conversations_dev15.yml), written the same way: first messages
    and the turns right after the first answer from busy people who are not trying to be clear
    (problems told through last week's events, long openers, odd answers about who they are)."""
    played_and_shown(advisor, "conversations_dev15.yml", "practitioner_dev15.json", FIFTEENTH_PASS_RATE)


def test_sixteenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The sixteenth development set (conversations_dev16.yml), written the same way to the locked
    set's own brief: the four kinds of people issue 13 names and 44 others, every kind of turn."""
    played_and_shown(advisor, "conversations_dev16.yml", "practitioner_dev16.json", SIXTEENTH_PASS_RATE)


def test_seventeenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The seventeenth development set (conversations_dev17.yml), written the same way: a general
    mixture by 60 kinds of people in the four nations."""
    played_and_shown(advisor, "conversations_dev17.yml", "practitioner_dev17.json", SEVENTEENTH_PASS_RATE)


def test_eighteenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The eighteenth development set (conversations_dev18.yml), written the same way to the locked
    set's own brief: the four kinds of people issue 13 names, five conversations each, and 40 others."""
    played_and_shown(advisor, "conversations_dev18.yml", "practitioner_dev18.json", EIGHTEENTH_PASS_RATE)


def test_nineteenth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The nineteenth development set (conversations_dev19.yml), written the same way: a general
    mixture by 60 kinds of people in the four nations. Held back this session as a referee: scored at
    its start and end only."""
    played_and_shown(advisor, "conversations_dev19.yml", "practitioner_dev19.json", NINETEENTH_PASS_RATE)


def test_twentieth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twentieth development set (conversations_dev20.yml), written the same way: first messages
    made hard (problems told without their usual words, two at once, practice questions), then what
    people type next."""
    played_and_shown(advisor, "conversations_dev20.yml", "practitioner_dev20.json", TWENTIETH_PASS_RATE)


def test_twenty_first_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-first development set (conversations_dev21.yml), written the same way to the
    locked set's brief: the four kinds of people issue 13 names, eight conversations each and in five
    ways of typing, and 28 others."""
    played_and_shown(advisor, "conversations_dev21.yml", "practitioner_dev21.json", TWENTY_FIRST_PASS_RATE)


def test_twenty_second_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-second development set (conversations_dev22.yml), written the same way: what comes
    after the first answer (follow-ups in sentences, context added, a second problem told through
    what happened, errands that name partners) by the four kinds of people and 40 others."""
    played_and_shown(advisor, "conversations_dev22.yml", "practitioner_dev22.json", TWENTY_SECOND_PASS_RATE)


def test_twenty_third_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-third development set (conversations_dev23.yml), written the same way: a general
    mixture by the four kinds of people and 40 others, from dentists to allotment societies. Held
    back as a referee in the session it was written: scored at its start and end only."""
    played_and_shown(advisor, "conversations_dev23.yml", "practitioner_dev23.json", TWENTY_THIRD_PASS_RATE)


def test_twenty_fourth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-fourth development set (conversations_dev24.yml), written the same way: a general
    mixture of sixty people across the four nations, with about twenty everyday requests."""
    played_and_shown(advisor, "conversations_dev24.yml", "practitioner_dev24.json", TWENTY_FOURTH_PASS_RATE)


def test_twenty_fifth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-fifth development set (conversations_dev25.yml), written the same way: every first
    message tells the problem through what happened, and short follow-ups follow."""
    played_and_shown(advisor, "conversations_dev25.yml", "practitioner_dev25.json", TWENTY_FIFTH_PASS_RATE)


def test_twenty_sixth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-sixth development set (conversations_dev26.yml): a general mixture by more kinds of
    people (GP practice managers, police, housing, schools, Welsh, Scottish and NI public bodies).
    Held back as a referee in the session it was written: scored at its start and end only."""
    played_and_shown(advisor, "conversations_dev26.yml", "practitioner_dev26.json", TWENTY_SIXTH_PASS_RATE)


def test_twenty_seventh_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-seventh development set (conversations_dev27.yml): a general mixture, sixty people
    in the four nations. Held back as a referee in the session it was written: scored on that
    session's starting and final code only."""
    played_and_shown(advisor, "conversations_dev27.yml", "practitioner_dev27.json", TWENTY_SEVENTH_PASS_RATE)


def test_twenty_eighth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-eighth development set (conversations_dev28.yml): sixty people in the four nations,
    written in the thirteenth session; short follow-ups that repeat other sets' were dropped by its
    writer's leak check, so most of its turns are first messages and longer questions."""
    played_and_shown(advisor, "conversations_dev28.yml", "practitioner_dev28.json", TWENTY_EIGHTH_PASS_RATE)


def test_twenty_ninth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The twenty-ninth development set (conversations_dev29.yml): sixty people in the four nations,
    written in the thirteenth session, with stories that end in their question and second-language English."""
    played_and_shown(advisor, "conversations_dev29.yml", "practitioner_dev29.json", TWENTY_NINTH_PASS_RATE)


def test_thirtieth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirtieth development set (conversations_dev30.yml): sixty people in the four nations,
    written in the fourteenth session, with errands mid-conversation and glossary follow-ups."""
    played_and_shown(advisor, "conversations_dev30.yml", "practitioner_dev30.json", THIRTIETH_PASS_RATE)


def test_thirty_first_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-first development set (conversations_dev31.yml): sixty people in the four nations,
    written in the fourteenth session: phone fragments, cross or formal voices, context over several messages."""
    played_and_shown(advisor, "conversations_dev31.yml", "practitioner_dev31.json", THIRTY_FIRST_PASS_RATE)


def test_thirty_second_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-second development set (conversations_dev32.yml): sixty people, fifteen in each
    nation, written in the fifteenth session: questions buried in long messages, asked for someone
    else, heavy jargon, sceptics, two problems at once, answers in bare fragments."""
    played_and_shown(advisor, "conversations_dev32.yml", "practitioner_dev32.json", THIRTY_SECOND_PASS_RATE)


def test_thirty_third_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-third development set (conversations_dev33.yml): sixty people, fifteen in each
    nation, written in the fifteenth session: newcomers without the jargon, hurried managers,
    follow-ups in their own words, pushback, returns to the first problem, "the short version"."""
    played_and_shown(advisor, "conversations_dev33.yml", "practitioner_dev33.json", THIRTY_THIRD_PASS_RATE)


def test_thirty_fourth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-fourth development set (conversations_dev34.yml): a general mixture, sixty people,
    fifteen in each nation, written in the fifteenth session and scored on its starting code."""
    played_and_shown(advisor, "conversations_dev34.yml", "practitioner_dev34.json", THIRTY_FOURTH_PASS_RATE)


def test_thirty_fifth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-fifth development set (conversations_dev35.yml): the four people issue 13 names,
    ten conversations each, and twenty others, fifteen in each nation, written in the fifteenth
    session and scored on its starting code."""
    played_and_shown(advisor, "conversations_dev35.yml", "practitioner_dev35.json", THIRTY_FIFTH_PASS_RATE)


def test_thirty_sixth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-sixth development set (conversations_dev36.yml): a general mixture from twenty
    kinds of people, three conversations each, fifteen in each nation, written in the sixteenth session."""
    played_and_shown(advisor, "conversations_dev36.yml", "practitioner_dev36.json", THIRTY_SIXTH_PASS_RATE)


def test_thirty_seventh_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-seventh development set (conversations_dev37.yml): the four people issue 13 names,
    twelve conversations each, and twelve others, written in the sixteenth session."""
    played_and_shown(advisor, "conversations_dev37.yml", "practitioner_dev37.json", THIRTY_SEVENTH_PASS_RATE)


def test_thirty_eighth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-eighth development set (conversations_dev38.yml): a general mixture from twenty
    kinds of people, every kind of turn, written in the sixteenth session and scored on its starting code."""
    played_and_shown(advisor, "conversations_dev38.yml", "practitioner_dev38.json", THIRTY_EIGHTH_PASS_RATE)


def test_thirty_ninth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The thirty-ninth development set (conversations_dev39.yml): the four people issue 13 names,
    ten conversations each, and twenty others, written in the sixteenth session and scored on its
    starting code."""
    played_and_shown(advisor, "conversations_dev39.yml", "practitioner_dev39.json", THIRTY_NINTH_PASS_RATE)


def test_fortieth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The fortieth development set (conversations_dev40.yml): sixty different kinds of people,
    fifteen in each nation, every kind of turn, written in the sixteenth session and scored on its
    starting code."""
    played_and_shown(advisor, "conversations_dev40.yml", "practitioner_dev40.json", FORTIETH_PASS_RATE)


def test_forty_first_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The forty-first development set (conversations_dev41.yml): the four people issue 13 names,
    eight conversations each, and twenty-eight others, mostly what is typed after the first answer;
    written in the sixteenth session and scored on its starting code."""
    played_and_shown(advisor, "conversations_dev41.yml", "practitioner_dev41.json", FORTY_FIRST_PASS_RATE)


def test_forty_second_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The forty-second development set (conversations_dev42.yml): twenty kinds of people, fifteen
    conversations in each nation, written in the seventeenth session and scored on its starting code.
    Like the referees, it is kept out of the training data (tools/first_turns.py)."""
    played_and_shown(advisor, "conversations_dev42.yml", "practitioner_dev42.json", FORTY_SECOND_PASS_RATE)


def test_forty_third_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The forty-third development set (conversations_dev43.yml): the four people issue 13 names, ten
    conversations each, and twenty others; written late in the seventeenth session, scored once on its
    starting code and once at its end, and never looked at to change anything."""
    played_and_shown(advisor, "conversations_dev43.yml", "practitioner_dev43.json", FORTY_THIRD_PASS_RATE)


def test_forty_fourth_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The forty-fourth development set (conversations_dev44.yml): the four people issue 13 names, ten
    conversations each, and twenty others (ambulance, probation, libraries, credit unions...); written
    in the twentieth session, a referee: scored on that session's starting and final code only, never
    looked at, and kept out of the training data (tools/first_turns.py)."""
    played_and_shown(advisor, "conversations_dev44.yml", "practitioner_dev44.json", FORTY_FOURTH_PASS_RATE)


def test_locked_practitioner_conversations(advisor: RunningAdvisor) -> None:
    """The locked test set (conversations_test.yml): written apart, never looked at to change the
    bot. Its misses are not printed, so they cannot steer; the figure is in results/."""
    summary = score(advisor, "conversations_test.yml", "practitioner_locked.json")
    assert summary["first_answer_words_max"] <= FIRST_ANSWER_WORDS, "a first answer to a challenge is too long for a phone"
    assert summary["pass_rate"] >= LOCKED_PASS_RATE, f"{summary['passed']}/{summary['turns']} locked practitioner turns passed"


ADVICE_KINDS = {"advice", "how", "example", "why", "simpler", "another", "sources", "context"}
EVERYDAY_ANSWERED = 0.01  # issue 13: everyday requests answered with advice, at most 1 %
IN_DOMAIN_DECLINED = 0.05  # issue 13: practice questions declined as off-topic, at most 5 %


def first_replies(advisor: RunningAdvisor, messages: list[str]) -> list[str]:
    """Each message as the first of a new conversation."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda m: texts(say(advisor.base_url, m, sender("single"))), messages))


def answered_with_advice(reply: str) -> bool:
    """Advice or knowledge of any kind, rather than a decline, small talk or a question back."""
    read = kind_of(reply)
    return bool(read & ADVICE_KINDS) or (not read & {"decline", "smalltalk", "clarify"} and bool(reply.strip()))


def test_everyday_requests_are_declined_not_advised(advisor: RunningAdvisor) -> None:
    requests = yaml.safe_load((PRACTITIONER_DIR / "everyday.yml").read_text())["requests"]
    replies = first_replies(advisor, [r["text"] for r in requests])
    advised = [(r["text"], reply[:80]) for r, reply in zip(requests, replies) if answered_with_advice(reply)]
    rate = len(advised) / len(requests)
    print(f"\n[measured] everyday requests answered with advice: {len(advised)}/{len(requests)} ({rate:.1%}): {advised[:5]}")
    record("everyday", {"requests": len(requests), "answered_with_advice": len(advised), "rate": round(rate, 4), "examples": advised[:10]})
    assert rate <= EVERYDAY_ANSWERED, advised


def test_practice_questions_are_answered_not_declined(advisor: RunningAdvisor) -> None:
    """The held-out practice questions (test split; the dev split steered retrieval)."""
    questions = yaml.safe_load((PRACTITIONER_DIR / "practice_questions_test.yml").read_text())["questions"]
    replies = first_replies(advisor, [q["text"] for q in questions])
    declined = [(q["text"], reply[:80]) for q, reply in zip(questions, replies) if "decline" in kind_of(reply)]
    right = sum(
        matches({"kind": "practice", "topic": q["topic"]} if not q["topic"].startswith("challenge_") else {"kind": "advice", "challenge": q["topic"]}, reply)
        for q, reply in zip(questions, replies)
    )
    rate = len(declined) / len(questions)
    print(f"\n[measured] practice questions declined as off-topic: {len(declined)}/{len(questions)} ({rate:.1%}); "
          f"answered on the expected topic: {right}/{len(questions)}")
    # A locked split: its misses are neither printed nor recorded, so they cannot steer.
    record("practice_questions", {"questions": len(questions), "declined": len(declined), "rate": round(rate, 4), "right_topic": right})
    assert rate <= IN_DOMAIN_DECLINED, f"{len(declined)} of {len(questions)} held-out practice questions declined"


def record(name: str, figures: dict) -> None:
    """Add figures to results/practitioner_measures.json, which `make eval` prints."""
    path = ROOT / "results" / "practitioner_measures.json"
    path.parent.mkdir(exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current[name] = figures
    path.write_text(json.dumps(current, indent=1))
