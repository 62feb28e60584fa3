/* SPDX-License-Identifier: MIT */
/*
 * atomics.h — named wrappers for every memory order the library uses, so
 * each ordering is greppable and carries its reason at the call site.
 * Every acquire/release/fence in lib/ says what it pairs with.
 */
#ifndef FJ_ATOMICS_H
#define FJ_ATOMICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define fj__load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define fj__load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define fj__load_seq_cst(p) atomic_load_explicit((p), memory_order_seq_cst)
#define fj__store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define fj__store_seq_cst(p, v) atomic_store_explicit((p), (v), memory_order_seq_cst)
#define fj__store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define fj__fetch_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define fj__fetch_add_seq_cst(p, v) atomic_fetch_add_explicit((p), (v), memory_order_seq_cst)
#define fj__fetch_sub_seq_cst(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_seq_cst)
#define fj__fetch_sub_release(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_release)
#define fj__fetch_or_seq_cst(p, v) atomic_fetch_or_explicit((p), (v), memory_order_seq_cst)
#define fj__fetch_and_seq_cst(p, v) atomic_fetch_and_explicit((p), (v), memory_order_seq_cst)
#define fj__cas_acq_rel(p, expected, desired)                                   \
  atomic_compare_exchange_weak_explicit((p), (expected), (desired),            \
                                        memory_order_acq_rel, memory_order_acquire)
#define fj__cas_seq_cst(p, expected, desired)                                   \
  atomic_compare_exchange_strong_explicit((p), (expected), (desired),          \
                                          memory_order_seq_cst, memory_order_relaxed)
#define fj__fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)
#define fj__fence_release() atomic_thread_fence(memory_order_release)
#define fj__fence_acquire() atomic_thread_fence(memory_order_acquire)

/* Single-writer counters: only the owning thread writes one, any thread
 * may read it.  A load and a store (no locked RMW) are enough because there
 * is one writer; relaxed because readers only want an eventually-exact sum.
 * x86-64: one unlocked `add` to memory is that load and store as a single
 * instruction (compilers never merge atomic accesses), and an aligned store
 * is single-copy atomic, so a reader sees the old or the new value.  Two of
 * these sit on every yield.  ThreadSanitizer cannot see into asm: its
 * builds keep the C form, which it checks. */
#if defined(__x86_64__) && defined(__GNUC__) && !FJ_TSAN_FIBERS
static inline void fj__stat_add(_Atomic uint64_t *p, uint64_t v) {
  __asm__("addq %1, %0" : "+m"(*(uint64_t *)p) : "er"(v));
}
static inline void fj__stat_inc32(_Atomic uint32_t *p) {
  __asm__("addl $1, %0" : "+m"(*(uint32_t *)p));
}
/* The same as a release store: x86 keeps stores in order, and the memory
 * clobber keeps the compiler from moving earlier accesses after it. */
static inline void fj__stat_inc_release(_Atomic uint64_t *p) {
  __asm__ volatile("addq $1, %0" : "+m"(*(uint64_t *)p) : : "memory");
}
#else
static inline void fj__stat_add(_Atomic uint64_t *p, uint64_t v) {
  fj__store_relaxed(p, fj__load_relaxed(p) + v);
}
static inline void fj__stat_inc32(_Atomic uint32_t *p) {
  fj__store_relaxed(p, fj__load_relaxed(p) + 1u);
}
static inline void fj__stat_inc_release(_Atomic uint64_t *p) {
  fj__store_release(p, fj__load_relaxed(p) + 1u);
}
#endif

#endif
