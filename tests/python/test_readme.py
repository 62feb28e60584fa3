# SPDX-License-Identifier: MIT
"""The Python examples in README.md and python/README.md run as written."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), re.S | re.M)


@pytest.mark.parametrize("doc", ["README.md", "python/README.md"])
def test_examples_run(doc):
    blocks = python_blocks(ROOT / doc)
    assert blocks, "no python example in %s" % doc
    scope = {}
    exec(compile(blocks[0], doc, "exec"), scope)
    out = scope["out"]
    assert sorted(x for x in out if isinstance(x, int))[:10] == [i * i for i in range(10)]


@pytest.mark.parametrize("doc,index", [(doc, i) for doc in ("README.md", "python/README.md")
                                       for i in range(1, len(python_blocks(ROOT / doc)))])
def test_every_further_example_runs(doc, index):
    # Each block checks its own results with assert; a fresh scope each.
    block = python_blocks(ROOT / doc)[index]
    assert "assert" in block, "an example in %s checks nothing" % doc
    exec(compile(block, "%s block %d" % (doc, index), "exec"), {})


def test_readmes_show_the_executor_and_asyncio():
    text = (ROOT / "README.md").read_text()
    for needed in ("FiberExecutor", "ThreadPoolExecutor", "submit(", "run_async", "asyncio.run"):
        assert needed in text, needed


def test_help_text_example_runs():
    # help(fiberjob) opens with the README's example; it must stay runnable.
    import textwrap
    import fiberjob
    doc = fiberjob.__doc__
    first = doc[doc.index("    import fiberjob"):doc.index("The one-line switch")]
    exec(compile(textwrap.dedent(first), "fiberjob.__doc__", "exec"), {})
    assert "FiberExecutor" in doc and "run_async" in doc
