# SPDX-License-Identifier: MIT
"""Shared fixtures.  `make_system(**kw)` builds a JobSystem that is closed at
teardown even when the test fails (so no worker outlives its test)."""
import signal
import threading

import pytest

try:
    import fiberjob
except ImportError as e:  # pragma: no cover - a setup problem, not a test failure
    raise ImportError(
        "fiberjob is not importable (%s). Run the suite with `meson test -C build --suite python`, "
        "or PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python, or from a venv "
        "where the package is installed (see python/README.md)" % e) from e


# A harness that starts the suite as a background job of a non-interactive
# shell hands it SIGINT ignored, and Python then installs no
# KeyboardInterrupt handler (nor do the interpreters the tests start, which
# inherit "ignored").  The Ctrl-C tests need the ordinary behaviour.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def make_system():
    made = []

    def make(**kw):
        kw.setdefault("workers", 2)
        js = fiberjob.JobSystem(**kw)
        made.append(js)
        return js

    yield make
    for js in made:
        # Errors a test left unreported on purpose end here, instead of
        # being printed as never retrieved when the interpreter exits.
        try:
            js.close()
        except fiberjob.JobError:
            pass


@pytest.fixture
def js(make_system):
    return make_system(workers=2)


@pytest.fixture
def js1(make_system):
    return make_system(workers=1)


def blocker():
    """A plain job that holds its worker until the returned event is set
    (it blocks the worker thread in Event.wait, GIL released)."""
    ev = threading.Event()
    started = threading.Event()

    def job(ctx):
        started.set()
        ev.wait()

    return job, started, ev


def run_script(code, timeout=120):
    """Runs `code` in a fresh interpreter (same environment, so the same
    fiberjob and any sanitizer preload) for cases that could hang or abort:
    a regression then fails by timeout or exit status instead of stalling
    or killing the suite."""
    import os
    import subprocess
    import sys
    import textwrap
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=os.environ)
