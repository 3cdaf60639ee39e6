"""The stock push's use cases on FakeUnitOfWork(FakeRepository()) with an in-memory platform: events in,
pushes out, every answer's end state (no I/O). Fixtures in conftest.py, helpers in push_helpers.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from push_helpers import ACK, T0, consume, cycle, event

from omni_channel import service
from omni_channel.domain.push_status import Claim, Listing, State, after_answer
from omni_channel.domain.stock_push import Answer, Outcome
from omni_channel.service.drift import DriftCheck


async def test_an_event_makes_the_listing_due_and_wakes_the_worker_after_the_commit(new_uow, repo, clock):
    woken: list[int] = []
    uow = new_uow()
    changed = await service.on_listing_stock(
        uow,
        [event(seq=1, quantity=3), event(seq=2, quantity=7)],
        now=clock(),
        wake=lambda: woken.append(uow.commits),
    )
    assert changed == 1 and woken == [1]  # woken once, after the commit
    row = repo.status["L1"]
    assert (row["state"], row["desired_qty"], row["desired_seq"], row["next_attempt_at"]) == (
        "pending",
        7,
        2,
        T0,
    )
    assert await consume(new_uow, event(seq=2, quantity=1), event(seq=1, quantity=9), clock=clock) == 0
    assert repo.status["L1"]["desired_qty"] == 7  # an older or repeated seq is ignored


async def test_a_push_is_acknowledged_and_recorded(new_uow, repo, worker, platform, clock, shop):
    await consume(new_uow, event(quantity=12), clock=clock)
    assert await cycle(worker) == 1
    row = repo.status["L1"]
    assert platform.calls == [("L1", 12)]
    assert (row["state"], row["pushed_qty"], row["pushed_seq"], row["acknowledged_at"]) == (
        "acknowledged",
        12,
        1,
        T0,
    )
    assert row["next_attempt_at"] is None and row["claim_token"] is None
    assert await cycle(worker) == 0  # nothing due any more
    detail = await service.push_status_of(new_uow(), "L1")
    assert [(h["kind"], h["outcome"], h["quantity"]) for h in detail["history"]] == [
        ("push", "acknowledged", 12)
    ]


async def test_failures_back_off_and_converge(new_uow, repo, worker, platform, clock, shop):
    platform.script = [Answer(Outcome.RETRY, "HTTP 503"), Answer(Outcome.RETRY, "code 7")]
    await consume(new_uow, event(quantity=4), clock=clock)
    await cycle(worker)
    row = repo.status["L1"]
    assert (row["state"], row["attempts"], row["last_error"]) == ("retrying", 1, "HTTP 503")
    assert row["next_attempt_at"] == T0 + timedelta(seconds=0.5)
    assert await cycle(worker) == 0  # not yet due
    clock.advance(0.5)
    await cycle(worker)
    assert (row["attempts"], row["next_attempt_at"]) == (2, clock() + timedelta(seconds=1.0))
    clock.advance(1.0)
    await cycle(worker)
    assert (row["state"], row["pushed_qty"], row["attempts"], row["last_error"]) == (
        "acknowledged",
        4,
        0,
        None,
    )


async def test_a_refusal_is_shown_and_not_retried_until_a_newer_number_or_a_resync(
    new_uow, repo, worker, platform, clock, shop
):
    platform.script = [Answer(Outcome.REFUSED, "15 isv.sku-not-exist"), Answer(Outcome.REFUSED, "again")]
    await consume(new_uow, event(quantity=4), clock=clock)
    await cycle(worker)
    row = repo.status["L1"]
    assert (row["state"], row["last_error"], row["next_attempt_at"]) == (
        "refused",
        "15 isv.sku-not-exist",
        None,
    )
    clock.advance(3600)
    assert await cycle(worker) == 0 and len(platform.calls) == 1
    await consume(new_uow, event(quantity=5, seq=2), clock=clock)  # a newer number goes out
    await cycle(worker)
    assert (row["state"], len(platform.calls)) == ("refused", 2)
    woken: list[bool] = []
    assert await service.resync(new_uow(), "L1", now=clock(), wake=lambda: woken.append(True))
    assert woken == [True] and row["state"] == "pending"
    await cycle(worker)
    assert (row["state"], row["pushed_qty"]) == ("acknowledged", 5)
    assert not await service.resync(new_uow(), "nope", now=clock(), wake=None)


async def test_bad_credentials_block_the_shop_until_it_is_saved_again(
    new_uow, repo, worker, platform, clock, shop
):
    platform.script = [Answer(Outcome.CREDENTIALS, "27 Invalid Session")]
    await consume(new_uow, event("L1", 4), clock=clock)
    await cycle(worker)
    assert repo.status["L1"]["state"] == "credentials"
    assert repo.shops[("tmall", "TM-1")]["credentials_error"] == "27 Invalid Session"
    await consume(new_uow, event("L2", 6), clock=clock)
    await cycle(worker)  # the blocked shop's other listing waits without a call
    assert (repo.status["L2"]["state"], len(platform.calls)) == ("credentials", 1)
    view = await service.get_shop(new_uow(), "tmall", "TM-1")
    assert view["credentials_error"] == "27 Invalid Session" and view["has_session_key"] is True
    assert "token-1" not in str(view) and "s3cret" not in str(view)
    woken: list[bool] = []
    await service.put_shop(
        new_uow(),
        channel="tmall",
        shop_id="TM-1",
        name="S",
        app_key="app-1",
        secret="s3cret-key",
        active=True,
        session_key="token-2",
        on_due=lambda: woken.append(True),
        now=clock(),
    )
    assert woken == [True] and repo.shops[("tmall", "TM-1")]["credentials_error"] is None
    await cycle(worker)
    assert {k: r["state"] for k, r in repo.status.items()} == {"L1": "acknowledged", "L2": "acknowledged"}


async def test_a_missing_or_inactive_shop_or_session_waits_for_the_shop(new_uow, repo, worker, clock):
    await consume(new_uow, event("L1", 4, shop_id="nobody"), clock=clock)
    await cycle(worker)
    assert repo.status["L1"]["state"] == "credentials" and "no tmall shop" in repo.status["L1"]["last_error"]


async def test_a_newer_number_arriving_mid_push_goes_out_next(new_uow, repo, worker, platform, clock, shop):
    await consume(new_uow, event(quantity=4, seq=1), clock=clock)
    platform.during = lambda: consume(new_uow, event(quantity=9, seq=2), clock=clock)
    await cycle(worker)
    row = repo.status["L1"]
    assert (row["state"], row["pushed_qty"], row["pushed_seq"], row["desired_qty"]) == ("pending", 4, 1, 9)
    await cycle(worker)
    assert (row["state"], row["pushed_qty"], row["pushed_seq"]) == ("acknowledged", 9, 2)
    assert platform.calls == [("L1", 4), ("L1", 9)]


async def test_a_channel_without_a_platform_waits_for_one(new_uow, repo, worker, clock, shop):
    await consume(new_uow, event("J1", 3, channel="jd"), clock=clock)
    await cycle(worker)
    assert repo.status["J1"]["state"] == "unsupported"
    assert await service.push.release_unsupported(new_uow(), ["jd"], clock()) == 1
    assert repo.status["J1"]["state"] == "pending"


async def test_a_lost_claim_records_nothing(new_uow, repo, clock, shop):
    await consume(new_uow, event(quantity=4), clock=clock)
    ((first, _),) = await service.claim_pushes(new_uow(), now=clock(), limit=5, lease_s=10)
    assert await service.claim_pushes(new_uow(), now=clock(), limit=5, lease_s=10) == []  # one in flight
    clock.advance(11)  # the first worker died: its lease ran out
    ((second, _),) = await service.claim_pushes(new_uow(), now=clock(), limit=5, lease_s=10)
    assert await service.finish_push(new_uow(), first, ACK, started_at=T0, now=clock()) is None
    assert repo.status["L1"]["pushed_qty"] is None
    assert (await service.finish_push(new_uow(), second, ACK, started_at=T0, now=clock())).acknowledged


async def test_drift_is_detected_recorded_and_resynced(new_uow, repo, worker, platform, clock, shop):
    await consume(new_uow, event("L1", 4), event("L2", 6), clock=clock)
    await cycle(worker)
    drift = DriftCheck(new_uow, {"tmall": platform}, worker.signal, clock=clock)
    summary = await drift.run_now()
    assert (summary.checked, summary.drifted) == (2, 0)
    platform.shown["L2"] = 1  # changed behind Omni's back
    clock.advance(60)
    summary = await drift.run_now()
    assert (summary.checked, summary.drifted, worker.signal.event.is_set()) == (2, 1, True)
    row = repo.status["L2"]
    assert (row["state"], row["drift_qty"], row["drift_seen_at"], row["drifts"]) == ("pending", 1, clock(), 1)
    await cycle(worker)
    assert (row["state"], platform.shown["L2"]) == ("acknowledged", 6)
    history = (await service.push_status_of(new_uow(), "L2"))["history"]
    assert [h["kind"] for h in history] == ["push", "drift", "push"]


async def test_the_drift_schedule_runs_once_per_interval(new_uow, clock):
    from omni_channel.service import drift

    assert await drift.claim_run(new_uow(), now=clock(), interval_s=60)
    assert not await drift.claim_run(new_uow(), now=clock() + timedelta(seconds=30), interval_s=60)
    assert await drift.claim_run(new_uow(), now=clock() + timedelta(seconds=60), interval_s=60)


async def test_lists_filter_and_page(new_uow, worker, clock, shop):
    await consume(new_uow, event("A", 1), event("B", 2), event("C", 3, channel="jd"), clock=clock)
    await cycle(worker)
    items, total = await service.list_push_status(
        new_uow(), state="acknowledged", channel=None, shop_id=None, listing_id=None, limit=1, offset=0
    )
    assert (total, [i["listing_id"] for i in items]) == (2, ["A"])
    items, total = await service.list_push_status(
        new_uow(), state=None, channel="jd", shop_id="TM-1", listing_id=None, limit=50, offset=0
    )
    assert [(i["listing_id"], i["state"]) for i in items] == [("C", "unsupported")]


def claim(seq: int = 1, attempts: int = 0) -> Claim:
    return Claim(Listing("L", "tmall", "S", "1"), 5, seq, T0, attempts, "t")


@pytest.mark.parametrize(
    ("outcome", "desired", "state", "due", "acked"),
    [
        (Outcome.ACKNOWLEDGED, 1, State.ACKNOWLEDGED, False, True),
        (Outcome.ACKNOWLEDGED, 2, State.PENDING, True, True),
        (Outcome.RETRY, 1, State.RETRYING, True, False),
        (Outcome.RETRY, 2, State.PENDING, True, False),
        (Outcome.REFUSED, 1, State.REFUSED, False, False),
        (Outcome.REFUSED, 2, State.PENDING, True, False),
        (Outcome.CREDENTIALS, 1, State.CREDENTIALS, False, False),
        (Outcome.CREDENTIALS, 2, State.CREDENTIALS, False, False),
    ],
)
def test_each_answer_leads_to_one_state(outcome, desired, state, due, acked):
    t = after_answer(Answer(outcome, "r"), claim(), desired, T0)
    assert (t.state, t.next_attempt_at is not None, t.acknowledged) == (state, due, acked)
    assert t.blocks_shop is (outcome is Outcome.CREDENTIALS)


def test_retries_back_off_doubling_and_capped():
    waits = [
        after_answer(Answer(Outcome.RETRY, "r"), claim(attempts=a), 1, T0, backoff_max_s=4).next_attempt_at
        for a in range(5)
    ]
    assert [(w - T0).total_seconds() for w in waits] == [0.5, 1, 2, 4, 4]
