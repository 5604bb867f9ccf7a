"""Grouping the messages the advisor did not understand, so the list reads as candidates for
new training examples rather than one line per message."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from report.read import NotUnderstood

GROUP_DISTANCE = 0.8  # cosine distance (average linkage) under which messages are grouped
MAX_GROUPED = 3000


def group_similar(texts: Sequence[str], distance: float = GROUP_DISTANCE) -> list[list[int]]:
    """Indices of `texts` grouped by similarity (TF-IDF of words and character n-grams, cosine
    distance, average-linkage agglomerative clustering), largest group first."""
    if len(texts) < 2:
        return [list(range(len(texts)))] if texts else []
    from scipy.sparse import hstack
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    blocks = [TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True).fit_transform(texts)]
    try:
        blocks.append(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit_transform(texts)
        )
    except ValueError:  # every message is stop words only: characters alone
        pass
    vectors = normalize(hstack(blocks).tocsr())
    distances = (1.0 - (vectors @ vectors.T).toarray()).clip(min=0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, affinity="precomputed", linkage="average"
    ).fit_predict(distances)
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[label].append(index)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass
class Group:
    size: int
    examples: list[tuple[str, int]]  # distinct messages, most frequent first, with how often
    guesses: Counter
    chosen: Counter


def not_understood_groups(items: list[NotUnderstood]) -> list[Group]:
    distinct: dict[str, list[NotUnderstood]] = {}
    for item in items:
        distinct.setdefault(_normalised(item.text), []).append(item)
    # Most frequent first; beyond MAX_GROUPED distinct messages the rarer ones stay on their own
    # (the pairwise distances of n messages take n x n memory).
    keys = sorted(distinct, key=lambda k: (-len(distinct[k]), k))
    grouped = group_similar(keys[:MAX_GROUPED]) + [[index] for index in range(MAX_GROUPED, len(keys))]
    groups = []
    for members in grouped:
        messages = [m for index in members for m in distinct[keys[index]]]
        counted = sorted(((distinct[keys[i]][0].text, len(distinct[keys[i]])) for i in members), key=lambda e: (-e[1], e[0]))
        groups.append(
            Group(
                size=len(messages),
                examples=counted,
                guesses=Counter(m.guess for m in messages if m.guess),
                chosen=Counter(m.chosen for m in messages if m.chosen),
            )
        )
    return sorted(groups, key=lambda g: (-g.size, g.examples[0][0]))
