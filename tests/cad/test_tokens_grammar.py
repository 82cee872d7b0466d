import numpy as np
import pytest

from backend.cad.canonical import canonicalize
from backend.cad.grammar import GrammarError, GrammarState
from backend.cad.tokens import VOCAB, CadTokenizer
from tests.cad.programs import plate_with_hole

TOKENIZER = CadTokenizer()


def _programs():
    programs = [canonicalize(plate_with_hole())]
    try:
        from backend.data.generator import generate_program
    except ImportError:  # pragma: no cover - the generator ships with the package
        return programs
    return programs + [generate_program(seed) for seed in range(60)]


def test_vocabulary_is_derived_from_the_grammar():
    assert len(TOKENIZER) == len(VOCAB)
    numbers = [TOKENIZER.vocab[w] for w in VOCAB if w[0] in "-0123456789"]
    assert numbers == list(range(TOKENIZER.number_base, TOKENIZER.number_base + 401))


def test_token_round_trip_and_saved_tokenizer(tmp_path):
    TOKENIZER.save(tmp_path)
    loaded = CadTokenizer.load(tmp_path)
    for program in _programs():
        ids = TOKENIZER.encode(program)
        assert ids[0] == TOKENIZER.bos_id and ids[-1] == TOKENIZER.eos_id
        assert TOKENIZER.decode(ids) == program
        assert loaded.encode(program) == ids


def test_every_valid_program_passes_the_grammar_mask():
    for program in _programs():
        state = GrammarState()
        for token in TOKENIZER.encode(program)[1:]:
            assert TOKENIZER.mask(state.allowed())[token], TOKENIZER.word(token)
            state.feed(TOKENIZER.word(token))
        assert state.program() == program


def test_random_token_strings_fail_at_the_first_wrong_token():
    rng = np.random.default_rng(0)
    base = TOKENIZER.encode(canonicalize(plate_with_hole()))[1:]
    for _trial in range(300):
        ids = list(base)
        cut = int(rng.integers(0, len(ids)))
        ids[cut:] = rng.integers(0, len(TOKENIZER), size=len(ids) - cut).tolist()
        state = GrammarState()
        first_bad = None
        for i, token in enumerate(ids):
            if not TOKENIZER.mask(state.allowed())[token]:
                first_bad = i
                break
            state.feed(TOKENIZER.word(token))
            if state.done:
                break
        if first_bad is None:
            continue
        replay = GrammarState()
        for token in ids[:first_bad]:
            replay.feed(TOKENIZER.word(token))
        with pytest.raises(GrammarError, match=f"word {first_bad + 1} "):
            replay.feed(TOKENIZER.word(ids[first_bad]))


def test_sampling_inside_the_mask_always_parses():
    rng = np.random.default_rng(1)
    finished = 0
    for _trial in range(40):
        state = GrammarState(max_curves_per_loop=6)
        for _ in range(400):
            allowed = np.flatnonzero(TOKENIZER.mask(state.allowed()))
            assert len(allowed) > 0
            eos = TOKENIZER.eos_id
            token = eos if eos in allowed and rng.random() < 0.3 else int(rng.choice(allowed))
            state.feed(TOKENIZER.word(token))
            if state.done:
                finished += 1
                state.program()
                break
    assert finished > 10
