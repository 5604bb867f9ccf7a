"""Leaks between the NLU training data and the evaluation sets (issue 14).

A sentence leaks when, after folding case, punctuation and whitespace, it equals a sentence of
another set, or is a near-duplicate of one: token-set Jaccard similarity >= 0.8 ("how do we stop
the rivalry" and "how do we stop the rivalry then" are one sentence for a classifier). The
sets compared: training data (data/nlu) with the development sets (tests/heldout/nlu_dev.yml, nlu_dev2.yml, nlu_dev3.yml, nlu_dev4.yml, nlu_dev5.yml,
nlu_dev6.yml, nlu_dev7.yml, nlu_dev8.yml, nlu_dev9.yml, nlu_dev10.yml, nlu_dev11.yml, messy_dev.yml, messy_dev2.yml, messy_dev3.yml, messy_dev4.yml, messy_dev5.yml, messy_dev6.yml,
messy_dev7.yml)
and the locked test sets (tests/heldout/nlu_test.yml, nlu_test2.yml, messy_test.yml, messy_test2.yml), and development with
test. A normalised sentence labelled with two intents anywhere is a conflict.

`python -m tools.leaks` prints the counts; `--screen DRAFT --out KEPT [--near 0.6]` drops a writer's leaks
before they reach data/nlu; `--files A B ...` compares other held-out files
with the training data and with each other.
"""

from __future__ import annotations

import argparse
import math
import re
from collections import defaultdict
from itertools import combinations, takewhile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TRAINING_DIR = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "heldout"
DEV = HELDOUT / "nlu_dev.yml"
MESSY_DEV = HELDOUT / "messy_dev.yml"  # written to steer on long, messy messages; a development set too
MESSY_DEV2 = HELDOUT / "messy_dev2.yml"  # the same, by someone who had read neither the data nor the other sets
MESSY_DEV3 = HELDOUT / "messy_dev3.yml"  # a third, written the same way a release later
MESSY_DEV4 = HELDOUT / "messy_dev4.yml"  # a fourth (ninth release), the same way
MESSY_DEV5 = HELDOUT / "messy_dev5.yml"  # a fifth (tenth release), most problems told through what happened
MESSY_DEV6 = HELDOUT / "messy_dev6.yml"  # a sixth (twenty-first release), the same way
MESSY_DEV7 = HELDOUT / "messy_dev7.yml"  # a seventh (twenty-third release), the same way
DEV2 = HELDOUT / "nlu_dev2.yml"  # a second development set of every intent, written from the intent contract alone
DEV3 = HELDOUT / "nlu_dev3.yml"  # a third (tenth release), the same way
DEV4 = HELDOUT / "nlu_dev4.yml"  # a fourth (thirteenth release), the same way, everyday requests as a voice assistant hears them
DEV5 = HELDOUT / "nlu_dev5.yml"  # a fifth (fourteenth release), the same way, half the challenges told as what happened
DEV6 = HELDOUT / "nlu_dev6.yml"  # a sixth (twenty-first release), the same way, everyday errands that name partners
DEV7 = HELDOUT / "nlu_dev7.yml"  # a seventh (twenty-third release), the same way
DEV8 = HELDOUT / "nlu_dev8.yml"  # an eighth (twenty-sixth release): the conversation intents as people type them
DEV9 = HELDOUT / "nlu_dev9.yml"  # a ninth (twenty-seventh): small talk and everyday requests in seven voices
DEV10 = HELDOUT / "nlu_dev10.yml"  # a tenth (twenty-eighth): very short messages, follow-ups and feedback
DEV11 = HELDOUT / "nlu_dev11.yml"  # an eleventh (thirty-first): first messages of every intent
TESTS = (HELDOUT / "nlu_test.yml", HELDOUT / "nlu_test2.yml", HELDOUT / "messy_test.yml", HELDOUT / "messy_test2.yml")  # nlu_test2: 397, twenty-fifth release; messy_test2: 190, twenty-fourth
NEAR = 0.8
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


def normalised(text: str) -> str:
    """Entity markup removed; case, punctuation and whitespace folded ("Alright?" == "alright")."""
    return " ".join(re.findall(r"[a-z0-9]+", ANNOTATION.sub(r"\1", text).lower().replace("'", "")))


def examples(paths) -> list[tuple[str, str]]:
    """(text, intent) of the intent examples of Rasa NLU YAML files, in file order."""
    found = []
    for path in paths:
        for block in (yaml.safe_load(Path(path).read_text()) or {}).get("nlu", []):
            if "intent" in block:
                found += [(line[2:], block["intent"]) for line in block["examples"].splitlines() if line.startswith("- ")]
    return found


def training_examples() -> list[tuple[str, str]]:
    return examples(sorted(TRAINING_DIR.glob("*.yml")))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class Index:
    """Normalised sentences of one set, for exact and near-duplicate look-ups."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.labels: dict[str, set[str]] = defaultdict(set)
        for text, intent in pairs:
            self.labels[normalised(text)].add(intent)
        self.tokens = {n: frozenset(n.split()) for n in self.labels}
        self.by_token: dict[str, set[str]] = defaultdict(set)
        for n, tokens in self.tokens.items():
            for token in tokens:
                self.by_token[token].add(n)

    def exact(self, text: str) -> str | None:
        n = normalised(text)
        return n if n in self.labels else None

    def near(self, text: str, threshold: float = NEAR) -> tuple[str, float] | None:
        """The most similar sentence with Jaccard >= threshold (exact matches excluded), if any.

        Only sentences that can reach the threshold are scored (prefix filtering, exact): Jaccard
        >= t needs at least ceil(t * |A|) of the query's |A| tokens shared, so a match holds one of
        any |A| - ceil(t * |A|) + 1 of them; the rarest are taken, which skips the thousands of
        sentences that share only "the" or "we"."""
        n = normalised(text)
        tokens = frozenset(n.split())
        if not tokens:
            return None
        needed = math.ceil(threshold * len(tokens) - 1e-9)
        rarest = sorted(tokens, key=lambda t: len(self.by_token.get(t, ())))[: len(tokens) - needed + 1]
        candidates = set().union(*(self.by_token.get(t, ()) for t in rarest)) - {n}
        best = max(((c, jaccard(tokens, self.tokens[c])) for c in candidates), key=lambda p: p[1], default=None)
        return best if best and best[1] >= threshold else None


def leaks(held_out: list[tuple[str, str]], reference: list[tuple[str, str]]) -> dict[str, list]:
    """The held-out sentences identical to (exact) or near-duplicates of (near) a reference
    sentence, and those whose identical reference sentence carries another label (conflicts)."""
    index = Index(reference)
    found = {"exact": [], "near": [], "conflicts": []}
    for text, intent in held_out:
        match = index.exact(text)
        if match is not None:
            found["exact"].append((text, intent, match))
            if intent not in index.labels[match]:
                found["conflicts"].append((text, intent, sorted(index.labels[match])))
            continue
        near = index.near(text)
        if near is not None:
            found["near"].append((text, intent, near[0], round(near[1], 2)))
    return found


def within_conflicts(pairs: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Normalised sentences labelled with more than one intent inside one set."""
    index = Index(pairs)
    return sorted((n, sorted(labels)) for n, labels in index.labels.items() if len(labels) > 1)


def report(files: dict[str, list[tuple[str, str]]]) -> dict[tuple[str, str], dict[str, list]]:
    """Every held-out set against training, and every pair of held-out sets."""
    training = training_examples()
    results = {}
    for name, pairs in files.items():
        results[(name, "training")] = leaks(pairs, training)
    for (a, pa), (b, pb) in combinations(files.items(), 2):
        results[(b, a)] = leaks(pb, pa)
    return results


def practitioner_messages() -> list[tuple[str, str]]:
    """Every user message of tests/practitioner/ (all conversation sets, practice questions,
    everyday requests): the test suite keeps them out of the hand-written training data."""
    folder = ROOT / "tests" / "practitioner"
    messages = []
    for path in sorted(folder.glob("conversations*.yml")):
        messages += [(t["user"], "") for c in yaml.safe_load(path.read_text())["conversations"] for t in c["turns"]]
    for path in sorted(folder.glob("practice_questions_*.yml")):
        messages += [(q["text"], "") for q in yaml.safe_load(path.read_text())["questions"]]
    messages += [(r["text"], "") for r in yaml.safe_load((folder / "everyday.yml").read_text())["requests"]]
    return messages


def screen(draft: Path, near: float = NEAR) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """A writer's draft (Rasa NLU YAML) split into kept and dropped (text, intent, why): dropped when
    identical or near to a training sentence, any held-out set, any practitioner message, or a
    sentence kept earlier in the draft. Leaks are dropped, never rewritten. A stricter `near`
    (0.6) suits short messages, where one word more or less is a third of the message ("cheers
    pet" beside a held-out "cheers pet, ta" is 0.67 and passes 0.8)."""
    index = Index(training_examples() + examples(sorted(HELDOUT.glob("*.yml"))) + practitioner_messages())
    kept, kept_tokens, dropped = [], [], []
    for text, intent in examples([draft]):
        tokens = frozenset(normalised(text).split())
        if not tokens:
            dropped.append((text, intent, "empty"))
        elif index.exact(text) is not None:
            dropped.append((text, intent, "identical to a sentence held elsewhere"))
        elif match := index.near(text, near):
            dropped.append((text, intent, f"near ({match[1]:.2f}) {match[0]!r}"))
        elif any(jaccard(tokens, other) >= near for other in kept_tokens):
            dropped.append((text, intent, "near an earlier sentence of the draft"))
        else:
            kept.append((text, intent))
            kept_tokens.append(tokens)
    return kept, dropped


def write_kept(draft: Path, kept: list[tuple[str, str]], out: Path) -> None:
    """The kept sentences as Rasa NLU YAML, under the draft's own header comment."""
    header = "".join(takewhile(lambda line: line.startswith("#"), draft.read_text().splitlines(keepends=True)))
    blocks: dict[str, list[str]] = {}
    for text, intent in kept:
        blocks.setdefault(intent, []).append(text)
    body = "".join(f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {t}\n" for t in texts) for intent, texts in blocks.items())
    out.write_text(f'{header}version: "3.1"\nnlu:\n{body}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screen", type=Path, help="a writer's draft: drop its leaks (see screen()) and write the rest to --out")
    parser.add_argument("--out", type=Path, help="with --screen: where the kept sentences go")
    parser.add_argument("--near", type=float, default=NEAR, help=f"with --screen: the Jaccard similarity that drops a sentence (default {NEAR})")
    parser.add_argument("--files", nargs="*", type=Path, default=[DEV, DEV2, DEV3, DEV4, DEV5, DEV6, DEV7, DEV8, DEV9, DEV10, DEV11, MESSY_DEV, MESSY_DEV2, MESSY_DEV3, MESSY_DEV4, MESSY_DEV5, MESSY_DEV6, MESSY_DEV7, *TESTS])
    parser.add_argument("--show", type=int, default=0, help="print this many examples of each kind")
    args = parser.parse_args(argv)
    if args.screen:
        if not args.out:
            parser.error("--screen needs --out")
        kept, dropped = screen(args.screen, args.near)
        for text, intent, why in dropped:
            print(f"dropped [{intent}] {text!r}: {why}")
        write_kept(args.screen, kept, args.out)
        print(f"kept {len(kept)}, dropped {len(dropped)}; written to {args.out}")
        return 0
    files = {p.name: examples([p]) for p in args.files if p.exists()}
    print(f"training: {len(training_examples())} examples; conflicts inside training: {len(within_conflicts(training_examples()))}")
    for name, pairs in files.items():
        print(f"{name}: {len(pairs)} examples; conflicts inside: {len(within_conflicts(pairs))}")
    for (a, b), found in report(files).items():
        print(f"{a} vs {b}: identical {len(found['exact'])}, near-duplicates {len(found['near'])}, "
              f"identical with another label {len(found['conflicts'])}")
        for kind in ("exact", "near", "conflicts"):
            for item in found[kind][: args.show]:
                print(f"    {kind}: {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
