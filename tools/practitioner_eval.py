"""Practitioner figures for `make eval` (issue 13): what people in this work type, beside the peers.

1. The held-out practice questions (test split) and everyday requests as an NLU set, through
   tools/evaluate.py with --peers: how often each classifier declines an in-domain question
   (predicts out_of_scope) and takes an everyday request for partnership work, ours beside
   Rasa's default config and TF-IDF + logistic regression.
2. The whole advisor over REST, as the test suite measured it (tests/understanding/test_practitioner.py writes
   results/practitioner.json and results/practitioner_measures.json): the practitioner
   conversations' pass rate, reply lengths, practice questions declined and everyday requests
   answered with advice. Retrieval answers in-domain questions that no intent covers, so the
   advisor declines fewer than its classifier alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from tools import evaluate
from server.launch import ROOT

PRACTITIONER = ROOT / "tests" / "practitioner"
RESULTS = ROOT / "results"


def nlu_set(target: Path) -> tuple[int, int]:
    """Practice questions (labelled ask_practice_question, or their challenge) and everyday
    requests (out_of_scope; the few about the bot, bot_challenge) as a Rasa NLU file."""
    by_intent: dict[str, list[str]] = {}
    for question in yaml.safe_load((PRACTITIONER / "practice_questions_test.yml").read_text())["questions"]:
        intent = question["topic"] if question["topic"].startswith("challenge_") else "ask_practice_question"
        by_intent.setdefault(intent, []).append(question["text"])
    everyday = yaml.safe_load((PRACTITIONER / "everyday.yml").read_text())["requests"]
    for request in everyday:
        by_intent.setdefault("out_of_scope" if request["kind"] == "decline" else "bot_challenge", []).append(request["text"])
    blocks = [{"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)} for intent, texts in by_intent.items()]
    target.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, sort_keys=False, allow_unicode=True))
    return sum(len(v) for k, v in by_intent.items() if k != "out_of_scope"), len(by_intent.get("out_of_scope", []))


def rest_figures() -> None:
    measures = RESULTS / "practitioner_measures.json"
    sets = [
        (RESULTS / "practitioner.json", "development set"),
        (RESULTS / "practitioner_dev2.json", "second development set"),
        (RESULTS / "practitioner_dev3.json", "third development set"),
        (RESULTS / "practitioner_dev4.json", "fourth development set"),
        (RESULTS / "practitioner_dev5.json", "fifth development set"),
        (RESULTS / "practitioner_dev6.json", "sixth development set"),
        (RESULTS / "practitioner_dev7.json", "seventh development set"),
        (RESULTS / "practitioner_dev8.json", "eighth development set"),
        (RESULTS / "practitioner_dev9.json", "ninth development set"),
        (RESULTS / "practitioner_dev10.json", "tenth development set"),
        (RESULTS / "practitioner_dev11.json", "eleventh development set"),
        (RESULTS / "practitioner_dev12.json", "twelfth development set"),
        (RESULTS / "practitioner_dev13.json", "thirteenth development set"),
        (RESULTS / "practitioner_dev14.json", "fourteenth development set"),
        (RESULTS / "practitioner_dev15.json", "fifteenth development set"),
        (RESULTS / "practitioner_dev16.json", "sixteenth development set"),
        (RESULTS / "practitioner_dev17.json", "seventeenth development set"),
        (RESULTS / "practitioner_dev18.json", "eighteenth development set"),
        (RESULTS / "practitioner_dev19.json", "nineteenth development set"),
        (RESULTS / "practitioner_dev20.json", "twentieth development set"),
        (RESULTS / "practitioner_dev21.json", "twenty-first development set"),
        (RESULTS / "practitioner_dev22.json", "twenty-second development set"),
        (RESULTS / "practitioner_dev23.json", "twenty-third development set"),
        (RESULTS / "practitioner_dev24.json", "twenty-fourth development set"),
        (RESULTS / "practitioner_dev25.json", "twenty-fifth development set"),
        (RESULTS / "practitioner_dev26.json", "twenty-sixth development set"),
        (RESULTS / "practitioner_dev27.json", "twenty-seventh development set"),
        (RESULTS / "practitioner_dev28.json", "twenty-eighth development set"),
        (RESULTS / "practitioner_dev29.json", "twenty-ninth development set"),
        (RESULTS / "practitioner_dev30.json", "thirtieth development set"),
        (RESULTS / "practitioner_dev31.json", "thirty-first development set"),
        (RESULTS / "practitioner_dev32.json", "thirty-second development set"),
        (RESULTS / "practitioner_dev33.json", "thirty-third development set"),
        (RESULTS / "practitioner_dev34.json", "thirty-fourth development set"),
        (RESULTS / "practitioner_dev35.json", "thirty-fifth development set"),
        (RESULTS / "practitioner_dev36.json", "thirty-sixth development set"),
        (RESULTS / "practitioner_dev37.json", "thirty-seventh development set"),
        (RESULTS / "practitioner_dev38.json", "thirty-eighth development set"),
        (RESULTS / "practitioner_dev39.json", "thirty-ninth development set"),
        (RESULTS / "practitioner_dev40.json", "fortieth development set"),
        (RESULTS / "practitioner_dev41.json", "forty-first development set"),
        (RESULTS / "practitioner_dev42.json", "forty-second development set (kept apart from the training data)"),
        (RESULTS / "practitioner_dev43.json", "forty-third development set (kept apart from the training data)"),
        (RESULTS / "practitioner_dev44.json", "forty-fourth development set (a referee, kept apart from the training data)"),
        (RESULTS / "practitioner_locked.json", "locked test set"),
    ]
    if not measures.exists() or not any(path.exists() for path, _ in sets):
        print("\nNo REST figures yet: `make test` (tests/understanding/test_practitioner.py) writes them.")
        return
    print("\nThe advisor over REST (from the last `make test`):")
    for path, label in sets:
        if not path.exists():
            continue
        played = json.loads(path.read_text())
        words = played["reply_words"]
        print(f"  practitioner conversations, {label}: {played['passed']}/{played['turns']} turns passed ({played['pass_rate']:.1%}), "
              f"{played['conversations_all_passed']}/{played['conversations']} conversations with every turn right; reply length "
              f"p50 {words['50']}, p90 {words['90']}, max {words['100']} words; longest first answer {played['first_answer_words_max']}")
    for name, label in (("practice_questions", "practice questions declined as off-topic"), ("everyday", "everyday requests answered with advice")):
        figures = json.loads(measures.read_text()).get(name)
        if figures:
            total = figures.get("questions") or figures.get("requests")
            count = figures.get("declined", figures.get("answered_with_advice"))
            print(f"  {label}: {count}/{total} ({figures['rate']:.1%})")


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "practitioner_nlu.yml"  # made from tests/practitioner/ each run
    in_domain, everyday = nlu_set(path)
    print(f"Classifiers on {in_domain} held-out practice questions and {everyday} everyday requests "
          "(out-of-scope declined = everyday requests not taken for partnership work):\n", flush=True)
    status = evaluate.main(["--heldout", str(path), "--peers", "--json", str(RESULTS / "eval-practitioner.json")])
    rest_figures()
    return status


if __name__ == "__main__":
    sys.exit(main())
