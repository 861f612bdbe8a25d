"""levenshtein, rouge-n and bleu against values worked out by hand from the metrics' definitions
(and rouge-score's published examples), their thresholds, and their lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.testing.test_assertion_types import parse, run

CAT = "the cat sat on the mat"
CAT_REF = "the cat is on the mat"


def test_levenshtein_passes_within_the_maximum_distance() -> None:
    v = run("{levenshtein: 'Order #123 shipped'}", "Order #124 shiped\n")
    assert v.passed  # 2 edits ≤ 5; surrounding whitespace ignored
    assert v.reason == "edit distance 2 ≤ 5 from 'Order #123 shipped'"
    assert v.score == pytest.approx(1 - 2 / 18)
    strict = run("{levenshtein: 'Order #123 shipped', threshold: 1}", "Order #124 shiped")
    assert not strict.passed and strict.reason.startswith("edit distance 2 > 1")


def test_levenshtein_distance_is_the_classic_edit_distance() -> None:
    # kitten → sitting: substitute k/s, e/i, insert g = 3 (Levenshtein 1966's textbook example)
    assert run("{levenshtein: sitting, threshold: 3}", "kitten").passed
    assert not run("{levenshtein: sitting, threshold: 2}", "kitten").passed
    assert run("{levenshtein: same}", "same").score == 1.0


def test_levenshtein_threshold_is_a_count_not_a_fraction() -> None:
    assert run("{levenshtein: abc, threshold: 12}", "xyz").passed
    a, problems = parse("{levenshtein: abc, threshold: -1}")
    assert a is None and "'threshold' must be a number ≥ 0" in problems[0].message


def test_rouge_n_is_the_f_measure_of_clipped_ngram_overlap() -> None:
    # unigrams: the×2, cat, on, mat shared = 5 of 6 each way → P = R = F = 5/6
    one = run(f"{{rouge-n: '{CAT_REF}'}}", CAT)
    assert one.score == pytest.approx(5 / 6)
    assert one.passed and one.reason.startswith("ROUGE-1 0.833 ≥ 0.75 against ")
    # bigrams: "the cat", "on the", "the mat" shared = 3 of 5 → F = 0.6 < 0.75
    two = run(f"{{rouge-n: '{CAT_REF}', n: 2}}", CAT)
    assert two.score == pytest.approx(0.6)
    assert not two.passed
    assert run(f"{{rouge-n: '{CAT_REF}', n: 2, threshold: 0.6}}", CAT).passed


def test_rouge_n_matches_rouge_scores_published_examples() -> None:
    # rouge-score's tests: target "testing one two", prediction "testing" → ROUGE-1 F 1/2;
    # prediction "testing one" → ROUGE-2 F 2/3
    assert run("{rouge-n: testing one two}", "testing").score == pytest.approx(1 / 2)
    assert run("{rouge-n: testing one two, n: 2}", "testing one").score == pytest.approx(2 / 3)
    assert run("{rouge-n: testing one two}", "").score == 0.0


def test_rouge_n_takes_the_best_of_several_references() -> None:
    v = run(f"{{rouge-n: ['completely different words', '{CAT_REF}']}}", CAT)
    assert v.score == pytest.approx(5 / 6)
    assert "(+1 more)" in v.reason


def test_rouge_n_keeps_letters_of_every_script() -> None:
    # words müller, aß shared of 3 each → 2/3 (rouge-score's own tokenizer would see
    # "m ller a pfel" and "m ller a birnen": 3/4)
    assert run("{rouge-n: Müller aß Birnen}", "Müller aß Äpfel").score == pytest.approx(2 / 3)
    assert run("{rouge-n: Привет мир}", "привет, мир!").score == pytest.approx(1.0)


def test_bleu_is_sentence_bleu_with_exponential_smoothing() -> None:
    # Modified n-gram precisions 5/6, 3/5, 1/4 and 0/3 → smoothed to 1/(2·3); equal lengths, so
    # no brevity penalty: BLEU = (5/6 · 3/5 · 1/4 · 1/6) ** (1/4) ≈ 0.380
    expected = (5 / 6 * 3 / 5 * 1 / 4 * 1 / 6) ** 0.25
    v = run(f"{{bleu: '{CAT_REF}'}}", CAT)
    assert v.score == pytest.approx(expected, abs=1e-6)
    assert not v.passed and v.reason.startswith("BLEU 0.380 < 0.5 against ")
    assert run(f"{{bleu: '{CAT_REF}', threshold: 0.35}}", CAT).passed


def test_bleu_bounds_and_several_references() -> None:
    assert run(f"{{bleu: '{CAT}'}}", CAT).score == pytest.approx(1.0)
    assert run("{bleu: okay thanks}", "this is a cat").score == 0.0
    assert run(f"{{bleu: ['{CAT_REF}', '{CAT}']}}", CAT).score == pytest.approx(1.0)


def test_a_negated_metric_scores_the_complement() -> None:
    v = run(f"{{not-bleu: '{CAT_REF}'}}", CAT)
    assert v.passed
    assert v.score == pytest.approx(1 - (5 / 6 * 3 / 5 * 1 / 4 * 1 / 6) ** 0.25, abs=1e-6)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{rouge-n: abc, n: 0}", "'n' of rouge-n must be an integer from 1 to 9"),
        ("{rouge-n: abc, n: 10}", "from 1 to 9"),
        ("{rouge-n: abc, threshold: 2}", "'threshold' must be a number from 0 to 1"),
        ("{bleu: []}", "non-empty list of strings"),
        ("{levenshtein: ''}", "non-empty string"),
    ],
)
def test_bad_metric_assertions_are_load_errors(spec: str, message: str) -> None:
    a, problems = parse(spec)
    assert a is None
    assert message in problems[0].message


def test_the_metric_libraries_load_only_when_used() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "promptlab", "--help"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    heavy = ("rapidfuzz", "rouge_score", "sacrebleu", "nltk", "numpy", "defusedxml")
    assert sorted(m for m in imported if m.split(".")[0] in heavy) == []
    code = "import sys, promptlab.assertions as a; print(sorted(set(sys.modules) & set(%r)))"
    loaded = subprocess.run([sys.executable, "-c", code % (heavy,)], capture_output=True,
                            text=True, cwd=REPO, timeout=60)  # fmt: skip
    assert loaded.stdout.strip() == "[]", loaded.stderr[-2000:]
