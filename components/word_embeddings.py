"""Static sentence embeddings for the intent classifier: WordLlama's l2_supercat 256-d token
embeddings (a 32,000 x 256 matrix trained for sentence similarity), mean-pooled and L2-normalised
as WordLlama's own `embed(norm=True)` does.

The two files come from the `wordllama` wheel on PyPI, pinned and hash-checked, extracted by
`tools/bootstrap.sh` (`python -m components.word_embeddings install`) into the virtualenv; nothing
is downloaded at run time, and the trained model carries its own copy. The package itself is not
installed: it needs numpy>=2 and pydantic>=2, Rasa 3.6 needs numpy 1.23 and pydantic 1. Its
tokenizer (Llama 2's byte-fallback BPE, a Hugging Face `tokenizers` config) is read here in plain
Python: on the 5,200 training and development sentences it gives the same token ids as the
`tokenizers` package.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

WHEEL = "wordllama==0.4.0.post1"
# The manylinux cp310 wheel (the two files used are the same in every wheel of the release).
WHEEL_SHA256 = "684abaaedeecfc841658715e119e8b222b9a39eccf74b0f747f50e7976a22280"
FILES = {  # path in the wheel -> sha256
    "wordllama/weights/l2_supercat_256.safetensors": "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    "wordllama/tokenizers/l2_supercat_tokenizer_config.json": "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
}
DIRECTORY = Path(sys.prefix) / "share" / "wordllama"  # inside the virtualenv, like the packages
WEIGHTS, TOKENIZER = (DIRECTORY / Path(name).name for name in FILES)


class LlamaTokenizer:
    """Llama 2's BPE as the tokenizer config describes it: "▁" before the text and for every
    space, no pre-tokeniser, merges by rank, unknown characters as their UTF-8 bytes."""

    def __init__(self, vocab: dict[str, int], merges: list[str], unk: str = "<unk>") -> None:
        self.vocab = vocab
        self.merges = merges
        self.ranks = {tuple(pair.split(" ", 1)): rank for rank, pair in enumerate(merges)}
        self.unknown = vocab[unk]
        self._piece = lru_cache(maxsize=100_000)(self._piece_ids)

    @classmethod
    def from_file(cls, path: Path) -> LlamaTokenizer:
        model = json.loads(path.read_text(encoding="utf-8"))["model"]
        return cls(model["vocab"], [m if isinstance(m, str) else " ".join(m) for m in model["merges"]], model["unk_token"])

    def __getstate__(self) -> dict:
        return {"vocab": self.vocab, "merges": self.merges}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["vocab"], state["merges"])  # type: ignore[misc]

    def _piece_ids(self, piece: str) -> tuple[int, ...]:
        parts: list[str] = []
        for char in piece:
            parts.extend([char] if char in self.vocab else [f"<0x{b:02X}>" for b in char.encode("utf-8")])
        never = len(self.ranks)
        while len(parts) > 1:
            ranks = [self.ranks.get(pair, never) for pair in zip(parts, parts[1:], strict=False)]
            best = min(range(len(ranks)), key=ranks.__getitem__)
            if ranks[best] == never:
                break
            parts[best : best + 2] = [parts[best] + parts[best + 1]]
        return tuple(self.vocab.get(part, self.unknown) for part in parts)

    def ids(self, text: str) -> list[int]:
        # No Llama merge joins a word to the "▁" of the next, so each word is merged (and cached) alone.
        ids: list[int] = []
        for piece in re.findall(r"▁*[^▁]+|▁+", "▁" + text.replace(" ", "▁")):
            ids.extend(self._piece(piece))
        return ids


class SentenceEmbedder:
    """Mean of a sentence's token embeddings, L2-normalised (zeros for an empty sentence)."""

    def __init__(self, matrix: np.ndarray, tokenizer: LlamaTokenizer) -> None:
        self.matrix = matrix  # float16 on disk and in the model; summed in float32
        self.tokenizer = tokenizer

    @classmethod
    def installed(cls) -> SentenceEmbedder:
        if not (WEIGHTS.exists() and TOKENIZER.exists()):
            raise FileNotFoundError(
                f"WordLlama's embeddings are not in {DIRECTORY}: run `make install` (tools/bootstrap.sh), "
                "or set dense_weight: 0 for the intent classifier in config.yml."
            )
        from safetensors.numpy import load_file

        matrix = load_file(str(WEIGHTS))["embedding.weight"].astype(np.float16)
        return cls(matrix, LlamaTokenizer.from_file(TOKENIZER))

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.matrix.shape[1]), dtype=np.float64)
        for row, text in enumerate(texts):
            ids = self.tokenizer.ids(text)
            if ids:
                mean = self.matrix[ids].astype(np.float64).mean(axis=0)
                norm = np.sqrt(mean @ mean)
                vectors[row] = mean / norm if norm else mean
        return vectors


def install() -> None:
    """Download the pinned wheel from PyPI (hash-checked by pip) and extract the two files."""
    if all(_sha256(DIRECTORY / Path(name).name) == digest for name, digest in FILES.items()):
        return
    with tempfile.TemporaryDirectory() as tmp:
        requirement = Path(tmp) / "wordllama.txt"
        requirement.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--require-hashes",
                "--only-binary=:all:",
                "--platform",
                "manylinux2014_x86_64",
                "--python-version",
                "3.10",
                "-r",
                str(requirement),
                "-d",
                tmp,
            ],
            check=True,
        )
        [wheel] = Path(tmp).glob("wordllama-*.whl")
        DIRECTORY.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for name, digest in FILES.items():
                data = archive.read(name)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise RuntimeError(f"{name} in {wheel.name} is not the file this project was measured with")
                (DIRECTORY / Path(name).name).write_bytes(data)


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m components.word_embeddings install")
    install()
    print(f"WordLlama embeddings in {DIRECTORY}")
