import pytest
import torch

from backend.cad.grammar import GrammarState
from backend.cad.tokens import CadTokenizer
from backend.decode import DecodeStats, decode_autoregressive
from backend.model.cad_model import CadModel
from tests.tiny_models import random_points, tiny_model

torch.set_num_threads(1)


def biased(model: CadModel, tok: CadTokenizer, words=("<eos>", "circle", "new", "one_side"), bias=8.0):
    """Make short, finished programs likely: push the logits of a few words up."""
    b = torch.zeros(len(tok))
    for w in words:
        b[tok.vocab[w]] = bias
    run = model.run_lm
    model.run_lm = lambda x, past_key_values=None: (lambda out: (out[0] + b, out[1]))(run(x, past_key_values))
    return model


def points(n: int = 256, seed: int = 0) -> torch.Tensor:
    return random_points(n, seed)


def test_every_candidate_parses_or_is_unfinished():
    model, tok = tiny_model()
    biased(model, tok, bias=3.0)
    results = decode_autoregressive(model, tok, points(), n_candidates=6, temperature=1.0, seed=3)
    assert len(results) == 6
    for r in results:
        if r.finished:
            assert r.tokens[-1] == tok.eos_id and r.error is None
            assert tok.decode([tok.bos_id, *r.tokens]) == r.program
        else:
            assert r.program is None and "unfinished" in r.error
            assert len(r.tokens) == model.config.max_tokens - 1 and tok.eos_id not in r.tokens
        assert r.log_prob <= 0.0
    stats = DecodeStats.from_results(results)
    assert stats.candidates == 6 and stats.parsed + stats.unfinished == 6
    assert stats.parsed >= 1


def test_unbiased_random_model_reports_unfinished():
    model, tok = tiny_model()
    results = decode_autoregressive(model, tok, points(), n_candidates=3, temperature=1.0, max_tokens=12)
    assert all(not r.finished and r.program is None for r in results)
    stats = DecodeStats.from_results(results)
    assert stats.unfinished == 3 and stats.out_of_time == 0  # the token limit, not the budget


def test_kv_cache_matches_full_recomputation():
    model, tok = tiny_model(seed=1)
    pts = points(seed=2)
    (res,) = decode_autoregressive(model, tok, pts, n_candidates=1, temperature=0.0, max_tokens=16)
    with torch.no_grad():
        prefix = model.encode_prefix(pts[None])
        ids = [tok.bos_id]
        state = GrammarState()
        for _ in range(len(res.tokens)):
            x = torch.cat([prefix, model.embed_tokens(torch.tensor([ids]))], dim=1)
            logits = model.decoder(inputs_embeds=x, use_cache=False).logits[0, -1]
            allowed = torch.from_numpy(tok.mask(state.allowed()))
            nxt = int(logits.masked_fill(~allowed, float("-inf")).argmax())
            ids.append(nxt)
            state.feed(tok.word(nxt))
            if state.done:
                break
    assert ids[1:] == res.tokens


def test_greedy_first_and_seeded_sampling():
    model, tok = tiny_model()
    biased(model, tok, bias=2.0)
    pts = points()
    (greedy,) = decode_autoregressive(model, tok, pts, n_candidates=1, temperature=0.0)
    a = decode_autoregressive(model, tok, pts, n_candidates=4, temperature=0.0, seed=5)
    b = decode_autoregressive(model, tok, pts, n_candidates=4, temperature=0.0, seed=5)
    assert a[0].greedy and a[0].tokens == greedy.tokens
    assert not any(r.greedy for r in a[1:])
    assert [r.tokens for r in a] == [r.tokens for r in b]
    c = decode_autoregressive(model, tok, pts, n_candidates=4, temperature=1.5, seed=6)
    assert [r.tokens for r in c[1:]] != [r.tokens for r in a[1:]]


def test_progress_is_reported_and_can_abort():
    model, tok = tiny_model()
    seen = []
    decode_autoregressive(
        model, tok, points(), n_candidates=2, max_tokens=40, progress=lambda *a: seen.append(a)
    )
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == 39

    def stop(step, total, finished):
        if step >= 16:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        decode_autoregressive(model, tok, points(), n_candidates=2, progress=stop)


def test_deadline_stops_decoding_and_reports_unfinished():
    import time

    model, tok = tiny_model()
    results = decode_autoregressive(model, tok, points(), n_candidates=3, deadline=time.perf_counter() - 1.0)
    assert all(not r.finished and "out of decoding time" in r.error for r in results)
    assert all(len(r.tokens) == 0 for r in results)  # stopped before the first step
    stats = DecodeStats.from_results(results)
    assert stats.unfinished == stats.out_of_time == 3


def test_a_step_budget_stops_decoding_at_the_same_step_whatever_the_clock():
    model, tok = tiny_model()
    runs = [
        decode_autoregressive(model, tok, points(), n_candidates=3, temperature=0.8, step_budget=5)
        for _ in range(2)
    ]
    for results in runs:
        assert all(r.finished or len(r.tokens) == 5 for r in results)
        assert all(r.finished or "out of decoding time" in r.error for r in results)
    assert [r.tokens for r in runs[0]] == [r.tokens for r in runs[1]]
    unlimited = decode_autoregressive(model, tok, points(), n_candidates=3, temperature=0.8)
    assert [r.tokens[:5] for r in unlimited] == [r.tokens[:5] for r in runs[0]]
