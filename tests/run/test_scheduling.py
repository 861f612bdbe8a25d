"""The scheduling policy itself: AIMD limits per model, fair admission, the grader budget."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from promptlab.catalogue import resolve
from promptlab.config import Config
from promptlab.scheduling import (
    AdaptiveLimit,
    Budget,
    Scheduler,
    is_throttle,
    model_caps,
    throttled_attempts,
)

# ---------------------------------------------------------------- AdaptiveLimit


def test_a_throttle_halves_the_limit_and_it_never_drops_below_one() -> None:
    limit = AdaptiveLimit(8)
    seen = []
    for _ in range(5):
        went_down = limit.on_throttle(limit.epoch)
        seen.append((limit.limit, went_down))
    assert seen == [(4, True), (2, True), (1, True), (1, False), (1, False)]
    assert (limit.cuts, limit.throttled, limit.lowest) == (3, 5, 1)


def test_throttles_of_calls_sent_before_the_last_cut_do_not_cut_again() -> None:
    limit = AdaptiveLimit(8)
    sent = limit.epoch  # eight calls sent at limit 8, all throttled by the same burst
    assert limit.on_throttle(sent) is True
    for _ in range(7):
        assert limit.on_throttle(sent) is False
    assert limit.limit == 4
    assert limit.on_throttle(limit.epoch) is True  # a call sent at limit 4: cut again
    assert limit.limit == 2


def test_the_limit_grows_by_one_after_a_round_of_clean_calls_up_to_the_cap() -> None:
    limit = AdaptiveLimit(4)
    limit.on_throttle(limit.epoch)
    limit.on_throttle(limit.epoch)
    assert limit.limit == 1
    grown = []
    for _ in range(12):
        limit.on_success()
        grown.append(limit.limit)
    # 1 clean call at limit 1, 2 at limit 2, 3 at limit 3; then the cap holds
    assert grown == [2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]


def test_a_throttle_restarts_the_count_of_clean_calls() -> None:
    limit = AdaptiveLimit(8)
    limit.on_throttle(limit.epoch)  # 4
    for _ in range(3):
        limit.on_success()
    limit.on_throttle(limit.epoch)  # 2
    limit.on_success()
    assert limit.limit == 2
    limit.on_success()
    assert limit.limit == 3


def test_a_fixed_limit_ignores_throttling() -> None:
    limit = AdaptiveLimit(3, adaptive=False)
    assert limit.on_throttle(limit.epoch) is False
    limit.on_success()
    assert limit.limit == 3


def test_the_mean_limit_weighs_each_value_by_how_long_it_held() -> None:
    limit = AdaptiveLimit(4)
    start = limit.history[0][0]
    limit.history.append((start + 1.0, 2))  # 4 for one second, then 2 for three seconds
    assert limit.mean(until=start + 4.0) == pytest.approx(2.5)


def test_throttle_codes_include_the_mid_stream_ones() -> None:
    for code in ("ThrottlingException", "ServiceUnavailableException", "throttlingException",
                 "ModelNotReadyException"):  # fmt: skip
        assert is_throttle(code)
    assert not is_throttle("InternalServerException") and not is_throttle(None)
    codes = ["ThrottlingException", "ReadTimeoutError", "ThrottlingException"]
    assert throttled_attempts(codes) == 2


# ---------------------------------------------------------------- Scheduler


def drain(sched: Scheduler[str]) -> list[str]:
    return [t.item for t in sched.ready()]


def test_a_model_at_its_cap_does_not_block_the_others() -> None:
    sched: Scheduler[str] = Scheduler(6, {"slow": 2})
    for i in range(10):
        sched.add("slow", f"s{i}")
    for i in range(3):
        sched.add("fast", f"f{i}")
    started = drain(sched)
    assert sorted(started) == ["f0", "f1", "f2", "s0", "s1"]  # slow stops at 2; fast goes on
    assert sched.waiting() == 8


def test_models_take_turns_for_the_overall_places() -> None:
    sched: Scheduler[str] = Scheduler(4)
    for key in ("a", "b"):
        for i in range(6):
            sched.add(key, f"{key}{i}")
    assert drain(sched) == ["a0", "b0", "a1", "b1"]


def test_the_overall_cap_bounds_everything_and_a_finish_frees_a_place() -> None:
    sched: Scheduler[str] = Scheduler(3, {"a": 2})
    for i in range(4):
        sched.add("a", f"a{i}")
        sched.add("b", f"b{i}")
    tickets = sched.ready()
    assert len(tickets) == 3
    assert sched.ready() == []
    assert [t.key for t in tickets] == ["a", "b", "a"]
    sched.finish(tickets[0], throttled=False, clean=True)
    assert [t.key for t in sched.ready()] == ["b"]  # one place, and it is b's turn


def test_a_throttled_model_runs_fewer_calls_while_the_others_keep_theirs() -> None:
    sched: Scheduler[str] = Scheduler(12, {"hot": 4, "ok": 4})
    for i in range(20):
        sched.add("hot", f"h{i}")
        sched.add("ok", f"o{i}")
    tickets = sched.ready()
    assert [t.key for t in tickets].count("hot") == 4
    hot = [t for t in tickets if t.key == "hot"]
    ok = [t for t in tickets if t.key == "ok"]
    for t in hot:  # the whole first round throttled: one cut, to 2
        sched.finish(t, throttled=True, clean=False)
    for t in ok:
        sched.finish(t, throttled=False, clean=True)
    again = [t.key for t in sched.ready()]
    assert (again.count("hot"), again.count("ok")) == (2, 4)
    assert sched.limits()["hot"].limit == 2 and sched.limits()["ok"].limit == 4


def test_the_shared_pool_starts_calls_in_arrival_order_without_model_limits() -> None:
    sched: Scheduler[str] = Scheduler.shared_pool(4)
    for i in range(5):
        sched.add("a", f"a{i}")
    sched.add("b", "b0")
    assert drain(sched) == ["a0", "a1", "a2", "a3"]
    ticket = sched.ready()
    assert ticket == []


def test_a_cap_above_the_overall_number_is_the_overall_number() -> None:
    sched: Scheduler[str] = Scheduler(2, {"a": 9})
    for i in range(4):
        sched.add("a", f"a{i}")
    assert len(sched.ready()) == 2
    assert sched.limits()["a"].cap == 2


# ---------------------------------------------------------------- Budget


def test_a_budget_holds_callers_beyond_its_limit() -> None:
    budget = Budget(2)
    lock = threading.Lock()
    running = peak = 0

    def call() -> None:
        nonlocal running, peak
        with budget.slot() as slot:
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            slot.clean = True

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert peak == 2


def test_a_throttled_grader_call_lowers_the_budget() -> None:
    budget = Budget(4)
    with budget.slot() as slot:
        slot.throttled = True
    assert budget.limit.limit == 2


# ---------------------------------------------------------------- caps from the config


def test_caps_match_a_model_by_alias_or_by_the_id_it_resolves_to(tmp_path: Path) -> None:
    caps = {"claude-haiku": 2, "amazon.nova-lite-v1:0": 3}
    config = Config(root=tmp_path, model_concurrency=caps)
    refs = [resolve("claude-haiku"), resolve("nova-lite"), resolve("nova-micro"),
            resolve("anthropic.claude-3-haiku-20240307-v1:0")]  # fmt: skip
    caps = model_caps(refs, config)
    assert caps == {refs[0].model_id: 2, "amazon.nova-lite-v1:0": 3}
    assert refs[3].model_id == refs[0].model_id  # the same model under its id: the same cap
