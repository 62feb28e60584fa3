# SPDX-License-Identifier: MIT
"""Thousands of Python and native jobs mixing yields, waits and nested spawns,
over many seeds; every result is checked."""
import random
import threading

import pytest

import fiberjob
from fiberjob import Priority, native

SEEDS = range(40)


class Ledger:
    """Which Python jobs ran, and how often (must be exactly once each)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ran = {}
        self.next_id = 0

    def new_id(self):
        with self.lock:
            self.next_id += 1
            return self.next_id

    def mark(self, jid):
        with self.lock:
            self.ran[jid] = self.ran.get(jid, 0) + 1


def plain(ctx, ledger, jid):
    ledger.mark(jid)


def yielding(ctx, ledger, jid, n):
    for _ in range(n):
        yield
    ledger.mark(jid)


def driver(ctx, ledger, jid, seed, depth, gate, natives, failures):
    rng = random.Random(seed)
    c = ctx.counter()
    mine_py, mine_native = [], []
    for _ in range(rng.randint(3, 12)):
        kind = rng.random()
        prio = rng.choice(list(Priority))
        if kind < 0.3:
            cid = ledger.new_id()
            mine_py.append(cid)
            ctx.spawn(plain, ledger, cid, priority=prio, counter=c)
        elif kind < 0.5:
            cid = ledger.new_id()
            mine_py.append(cid)
            ctx.spawn(yielding, ledger, cid, rng.randint(0, 4), priority=prio, counter=c)
        elif kind < 0.6 and depth < 2:
            cid = ledger.new_id()
            mine_py.append(cid)
            ctx.spawn(driver, ledger, cid, rng.getrandbits(32), depth + 1, gate, natives,
                      failures, priority=prio, counter=c)
        elif kind < 0.75:
            t = native.yielder(rng.randint(0, 20), spin_ns=rng.choice([0, 500]))
            mine_native.append(t)
            ctx.spawn(t, priority=prio, counter=c)
        elif kind < 0.85:
            t = native.tree(rng.randint(0, 4), rng.randint(1, 4))
            mine_native.append(t)
            ctx.spawn(t, priority=prio, counter=c)
        elif kind < 0.95:
            t = native.waiter(gate)
            mine_native.append(t)
            ctx.spawn(t, priority=prio, counter=c)
        else:
            # a failing job: its error must come back at our `yield c`
            ctx.spawn(lambda ctx: 1 / 0, priority=prio, counter=c)
            failures.append(jid)
        if rng.random() < 0.3:
            yield
    try:
        yield c
    except fiberjob.JobError as e:
        assert all(isinstance(x, ZeroDivisionError) for _, x in e.errors)
        failures.append(("caught", jid))
    # everything we spawned is finished when the wait returns
    assert c.value == 0
    with ledger.lock:
        assert all(ledger.ran.get(i, 0) == 1 for i in mine_py)
    assert all(t.done for t in mine_native)
    natives.extend(mine_native)
    ledger.mark(jid)


@pytest.mark.parametrize("seed", SEEDS)
def test_stress(make_system, seed):
    rng = random.Random(seed)
    js = make_system(workers=rng.choice([1, 2, 3]), max_pooled_fibers=rng.choice([0, 4, 32]),
                     stack_size=rng.choice([64 * 1024, 256 * 1024]))
    ledger = Ledger()
    gate = js.counter()
    gate_jobs = [native.yielder(rng.randint(5, 50)) for _ in range(4)]
    js.run_many(gate_jobs, counter=gate)
    natives, failures = [], []
    top = js.counter()
    ids = []
    for _ in range(rng.randint(10, 25)):
        jid = ledger.new_id()
        ids.append(jid)
        js.run(driver, ledger, jid, rng.getrandbits(32), 0, gate, natives, failures,
               priority=rng.choice(list(Priority)), counter=top)
    top.wait()   # failures were all caught by the drivers
    gate.wait()
    assert all(ledger.ran.get(i) == 1 for i in ids)
    assert set(ledger.ran.values()) == {1}
    assert len(ledger.ran) == ledger.next_id
    failed = [f for f in failures if not isinstance(f, tuple)]
    caught = {f[1] for f in failures if isinstance(f, tuple)}
    assert set(failed) == caught
    for t in natives:
        assert t.done and t.status == 0
        if t.kind == "yield":
            assert t.yields_done == t._ptr.yields
        elif t.kind == "tree":
            assert t.nodes == native.tree_size(t._ptr.depth, t._ptr.fanout)
        elif t.kind == "wait":
            assert t.value_after_wait == 0
            assert t.end_ns >= max(g.end_ns for g in gate_jobs)
    js.close()   # nothing unreported
