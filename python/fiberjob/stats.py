# SPDX-License-Identifier: MIT
"""Stats: a JobSystem's running totals (fj_stats), as JobSystem.stats()
returns them.  A module of its own so that the SystemLike Protocol can name
it without importing system.py."""
from dataclasses import dataclass

__all__ = ["Stats"]


@dataclass(frozen=True)
class Stats:
    """fj_stats: running totals since the system started (fibers_live and
    fibers_pooled are 'now')."""
    jobs_run: int
    jobs_stolen: int
    yields: int
    waits_suspended: int
    fibers_created: int
    fibers_live: int
    fibers_pooled: int
    stack_high_water: int = 0        #: deepest use of a fiber stack seen, bytes
    stack_high_water_large: int = 0  #: the same for large-stack fibers
    fibers_large_created: int = 0    #: large-stack fibers mapped (part of fibers_created)
    fibers_large_live: int = 0       #: now: large-stack fibers mapped
    fibers_large_pooled: int = 0     #: now: idle large-stack fibers
    fibers_peak: int = 0             #: most fibers live at once (never above max_fibers)
    fiber_unavailable: int = 0       #: times no fiber could be had (budget or mapping)
    aged_picks: int = 0              #: jobs picked ahead of higher priorities by aging
    pinned_run: int = 0              #: jobs and resumes taken from pinned queues
