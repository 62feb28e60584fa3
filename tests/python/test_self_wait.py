# SPDX-License-Identifier: MIT
"""A job waiting on the counter that counts it is an error (DeadlockError /
FJ_EDEADLK), not a hang."""
import pytest

import fiberjob
from fiberjob._ffi import lib

from conftest import run_script


def test_edeadlk_maps_to_deadlock_error():
    e = fiberjob.error_for_code(lib.FJ_EDEADLK)
    assert type(e) is fiberjob.DeadlockError and e.code == lib.FJ_EDEADLK == -12
    assert isinstance(e, fiberjob.FiberJobError) and isinstance(e, ValueError)
    assert "counter that counts the job itself" in str(e)


def test_generator_yielding_its_own_counter_gets_deadlock_error(js):
    c = js.counter()
    seen = []

    def job(ctx):
        try:
            yield c
        except fiberjob.DeadlockError as e:
            seen.append(e)

    js.run(job, counter=c).wait()
    assert len(seen) == 1 and isinstance(seen[0], ValueError)


def test_generator_waiting_for_a_future_on_its_own_counter(js):
    c = js.counter()
    seen = []

    def job(ctx):
        fut = ctx.submit(lambda ctx: 1, counter=c)
        try:
            yield fut
        except fiberjob.DeadlockError:
            seen.append("refused")

    js.run(job, counter=c).wait()
    assert seen == ["refused"]
