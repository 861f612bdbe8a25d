"""Reference-text assertions: levenshtein (edit distance), rouge-n and bleu (n-gram overlap).

Libraries, chosen by measurement (CPython 3.11, x86-64; `pip download` of the package and the
dependencies a fresh venv lacks; import = `python -X importtime`, best of 9, minus bare start-up):

    package            covers          dists  download  installed  import
    rouge-score 0.1.2  ROUGE-N/L       11     19.7 MB   98 MB      419 ms  (imports all of nltk)
    sacrebleu 2.6.0    BLEU, chrF      7      22.7 MB   92 MB      117 ms
    nltk 3.10.4        BLEU (no ROUGE) 7       3.0 MB   23 MB      344 ms
    rouge 1.0.1        ROUGE-1..5/L    2       32 KB    0.3 MB      11 ms
    evaluate 0.4.6     wrappers        37     95 MB    402 MB       -   (fetches metric code
                                                                        from the Hub at run time)
    rapidfuzz 3.14.6   Levenshtein     1       3.1 MB   12 MB       19 ms

- ROUGE: rouge-score, Google's reimplementation of ROUGE-1.5.5 (clipped n-gram counts,
  multi-reference max). `rouge` is tiny but counts each distinct n-gram once (sets), which is not
  ROUGE-N; evaluate needs the network. rouge-score's own tokenizer keeps only [a-z0-9] (so
  "Müller" and any non-Latin text vanish), hence _Words below: the same rule for ASCII text,
  Unicode letters and digits kept.
- BLEU: sacrebleu, the reference for reproducible BLEU (13a tokenization, exp smoothing at
  sentence level) — with rouge-score it adds 5 dists (lxml, portalocker, tabulate, colorama,
  sacrebleu: +14 MB); nltk's BLEU would be free with rouge-score but needs a tokenizer of our
  own (its word_tokenize downloads data) and a smoothing choice, and imports in 344 ms.
- Together: 16 dists, 25 MB download, 113 MB installed (numpy 74 MB of it), 474 ms to import,
  paid on the first rouge-n / bleu assertion only: both are imported inside the checks, which
  run on the evaluation pool (quick=False), never at start-up. Nothing is downloaded at run time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptlab.assertions.base import Assertion, BadAssertion, Context, Verdict, quote
from promptlab.assertions.text import need_string, need_strings

LEVENSHTEIN_THRESHOLD = 5  # maximum edit distance
ROUGE_THRESHOLD = 0.75  # promptfoo's default
BLEU_THRESHOLD = 0.5
ROUGE_MAX_N = 9  # rouge-score computes rouge1..rouge9


class _Words:
    """rouge-score's tokenizer rule (lowercase; runs of letters and digits) for any script."""

    _WORD = re.compile(r"[^\W_]+")

    def tokenize(self, text: str) -> list[str]:
        return self._WORD.findall(text.lower())


def prepare_levenshtein(a: Assertion, root: Path) -> str:
    return need_string(a, root).strip()


def prepare_rouge(a: Assertion, root: Path) -> tuple[list[str], int]:
    refs = need_strings(a, root)
    n = a.options.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= ROUGE_MAX_N:
        raise BadAssertion(f"'n' of rouge-n must be an integer from 1 to {ROUGE_MAX_N}, got {n!r}",
                           "n: 1 compares words, n: 2 word pairs", "n")  # fmt: skip
    return refs, n


def prepare_bleu(a: Assertion, root: Path) -> list[str]:
    return need_strings(a, root)


def _refs(refs: list[str]) -> str:
    shown = quote(refs[0], 40)
    return shown if len(refs) == 1 else f"{shown} (+{len(refs) - 1} more)"


def levenshtein(a: Assertion, ctx: Context) -> Verdict:
    """Pass when the edit distance (surrounding whitespace ignored) is ≤ threshold (default 5).
    Score: 1 - distance / length of the longer text (1 = identical, 0 = nothing in common)."""
    from rapidfuzz.distance import Levenshtein

    expected: str = a.compiled
    got = ctx.output.strip()
    limit = a.threshold if a.threshold is not None else LEVENSHTEIN_THRESHOLD
    distance = Levenshtein.distance(got, expected)
    longer = max(len(got), len(expected))
    score = 1.0 - distance / longer if longer else 1.0
    ok = distance <= limit
    return Verdict(ok, score, f"edit distance {distance} {'≤' if ok else '>'} {limit:g} "
                   f"from {quote(expected, 40)}")  # fmt: skip


def _scored(name: str, score: float, threshold: float, refs: list[str]) -> Verdict:
    ok = score >= threshold
    return Verdict(ok, score, f"{name} {score:.3f} {'≥' if ok else '<'} {threshold:g} "
                   f"against {_refs(refs)}")  # fmt: skip


def rouge_n(a: Assertion, ctx: Context) -> Verdict:
    """ROUGE-N F-measure against the best-matching reference; pass at ≥ threshold (0.75)."""
    from rouge_score.rouge_scorer import RougeScorer

    refs, n = a.compiled
    key = f"rouge{n}"
    scores: dict[str, Any] = RougeScorer([key], tokenizer=_Words()).score_multi(refs, ctx.output)
    threshold = a.threshold if a.threshold is not None else ROUGE_THRESHOLD
    return _scored(f"ROUGE-{n}", float(scores[key].fmeasure), threshold, refs)


def bleu(a: Assertion, ctx: Context) -> Verdict:
    """Sentence BLEU (sacrebleu: 13a tokens, exp smoothing, effective order) over all
    references, scaled to 0..1; pass at ≥ threshold (0.5)."""
    from sacrebleu.metrics import BLEU

    refs: list[str] = a.compiled
    score = BLEU(effective_order=True).sentence_score(ctx.output, refs).score / 100.0
    threshold = a.threshold if a.threshold is not None else BLEU_THRESHOLD
    return _scored("BLEU", score, threshold, refs)
