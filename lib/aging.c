/* SPDX-License-Identifier: MIT */
/*
 * aging.c — the per-level aging clocks (see aging.h).
 */
#include "aging.h"

#include "atomics.h"
#include "sys/sys.h"

void fj__aging_init(fj__aging *a, uint32_t aging_us) {
  a->period_ns = (uint64_t)aging_us * 1000u;
  uint64_t now = fj__now_ns();
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    atomic_init(&a->last[p], now);
}

bool fj__aging_claim(fj__aging *a, unsigned p, uint64_t now) {
  /* relaxed: the clock only decides who looks at level p; the item taken is
   * published by its own queue's acquire/release. */
  uint64_t last = fj__load_relaxed(&a->last[p]);
  /* Signed: another worker may have claimed with a slightly later clock. */
  if ((int64_t)(now - last) < (int64_t)a->period_ns)
    return false;
  return atomic_compare_exchange_strong_explicit(&a->last[p], &last, now,
                                                 memory_order_relaxed, memory_order_relaxed);
}
