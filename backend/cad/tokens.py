"""Token ids for the text form: a ``tokenizers`` WordLevel tokenizer saved as ``tokenizer.json``.

The vocabulary is derived from the grammar: special tokens, then the keywords,
then the 401 number words in increasing order (so a range of numbers is a
contiguous range of ids, which the constrained decoder uses).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import WhitespaceSplit

from backend.cad.grammar import EOS, KEYWORDS, NUMBER_WORDS, Allowed
from backend.cad.program import Program
from backend.cad.quantize import LIMIT_STEPS
from backend.cad.text import program_to_words, words_to_program

PAD, BOS, UNK, MASK = "<pad>", "<bos>", "<unk>", "<mask>"
SPECIALS = (PAD, BOS, EOS, UNK, MASK)
VOCAB: tuple[str, ...] = SPECIALS + KEYWORDS + NUMBER_WORDS
TOKENIZER_FILE = "tokenizer.json"


class CadTokenizer:
    """Program <-> token ids, and grammar `Allowed` sets -> boolean masks over the vocabulary."""

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        if tokenizer is None:
            tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token=UNK))
            tokenizer.pre_tokenizer = WhitespaceSplit()
        self.tk = tokenizer
        self.vocab = tokenizer.get_vocab()
        self.id_to_word = {i: w for w, i in self.vocab.items()}
        if len(self.vocab) != len(VOCAB) or any(self.vocab.get(w) != i for i, w in enumerate(VOCAB)):
            raise ValueError("tokenizer vocabulary does not match this version of the CAD grammar")
        self.pad_id, self.bos_id, self.eos_id = self.vocab[PAD], self.vocab[BOS], self.vocab[EOS]
        self.mask_id = self.vocab[MASK]
        self.number_base = self.vocab[NUMBER_WORDS[0]]  # id of step -LIMIT_STEPS

    def __len__(self) -> int:
        return len(self.vocab)

    # --- programs ---------------------------------------------------------------------------------

    def encode(self, program: Program) -> list[int]:
        """Token ids of the program, starting with BOS and ending with EOS."""
        return [self.bos_id] + self.tk.encode(" ".join(program_to_words(program))).ids

    def decode(self, ids: list[int]) -> Program:
        """Program from ids (BOS and padding are skipped); raises GrammarError when invalid."""
        words = [self.id_to_word.get(int(i), UNK) for i in ids if int(i) not in (self.bos_id, self.pad_id)]
        if EOS in words:
            words = words[: words.index(EOS) + 1]
        return words_to_program(words)

    def word(self, token_id: int) -> str:
        return self.id_to_word[int(token_id)]

    # --- grammar masks ----------------------------------------------------------------------------

    @cached_property
    def _zero_mask(self) -> np.ndarray:
        return np.zeros(len(self.vocab), dtype=bool)

    def mask(self, allowed: Allowed) -> np.ndarray:
        """Boolean array over the vocabulary: True where the grammar allows the token."""
        m = self._zero_mask.copy()
        for w in allowed.words:
            m[self.vocab[w]] = True
        if allowed.num_range is not None:
            lo, hi = allowed.num_range
            m[self.number_base + lo + LIMIT_STEPS : self.number_base + hi + LIMIT_STEPS + 1] = True
            for q in allowed.exclude:
                m[self.number_base + q + LIMIT_STEPS] = False
        return m

    # --- files ------------------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / TOKENIZER_FILE
        self.tk.save(str(path))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> CadTokenizer:
        path = Path(folder) / TOKENIZER_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no {TOKENIZER_FILE} in {folder}")
        return cls(Tokenizer.from_file(str(path)))
