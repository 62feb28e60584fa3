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
