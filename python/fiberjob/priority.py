# SPDX-License-Identifier: MIT
"""Job priorities: the three fj_priority levels and their validation."""
import enum
import operator
from typing import Union

from ._ffi import lib
from .errors import PriorityError

__all__ = ["Priority", "PriorityLike"]


class Priority(enum.IntEnum):
    """The queue a job goes to.  Workers take HIGH jobs first, then NORMAL,
    then LOW; there is no aging, so steady HIGH work keeps LOW work waiting."""
    HIGH = lib.FJ_PRIORITY_HIGH
    NORMAL = lib.FJ_PRIORITY_NORMAL
    LOW = lib.FJ_PRIORITY_LOW


#: What a ``priority=`` argument accepts: a Priority or its int value.
PriorityLike = Union[Priority, int]

_VALID = frozenset(int(p) for p in Priority)


def priority_value(p: PriorityLike) -> int:
    """The fj_priority int for p; PriorityError for anything else (bools too)."""
    try:
        v = operator.index(p)
    except TypeError:
        raise PriorityError(detail="got %r" % (p,)) from None
    if v not in _VALID or isinstance(p, bool):
        raise PriorityError(detail="got %r" % (p,))
    return v
