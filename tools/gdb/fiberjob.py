# SPDX-License-Identifier: MIT
"""gdb commands for libfiberjob's suspended fibers.

Load with `source .../fiberjob.py` (installed under share/fiberjob/gdb/).

  info fibers    lists every suspended fiber (parked on a counter, or ready
                 after a yield) with its job, in the order and with the
                 indices fj_system_dump uses
  fiber N        points the selected thread's registers at fiber N's saved
                 context, so bt, frame, up/down and info locals show the
                 fiber's stack with gdb's own unwinder
  fiber          puts the thread's real registers back

The registers are really changed in the stopped process: always switch back
with `fiber` before continuing (`fiber N` refuses to stack switches, and
the commands warn if you resume while switched).

Needs debug information of libfiberjob (a debugoptimized build, or a
distribution's debug-symbol package): it reads the fiber registry
`fj__fibers` and the fields named in lib/fiber_debug.h by name.

Where a suspended context keeps its registers is Boost.Context's x86-64
System V jump_fcontext layout, as lib/fcontext_regs.c describes: the
fcontext_t is the stack pointer at the switch; at +0x08 r12, +0x10 r13,
+0x18 r14, +0x20 r15, +0x28 rbx, +0x30 rbp, +0x38 the resume address, and
the stack pointer after resuming is fcontext_t + 0x40.
"""
import struct

import gdb

_STATES = {2: "ready after a yield", 3: "parked", 4: "woken, not yet resumed"}
_SAVED = ("r12", "r13", "r14", "r15", "rbx", "rbp")
_SWITCHED_REGS = ("rip", "rsp") + _SAVED

# The thread and its registers while switched onto a fiber, else None.
_switched = None


def _registry_head():
    try:
        return gdb.parse_and_eval("fj__fibers")["head"]
    except gdb.error as e:
        raise gdb.GdbError("fiberjob: cannot read the fiber registry (fj__fibers): %s; "
                           "load libfiberjob with debug information" % e)


def suspended_fibers():
    """The suspended fibers, in the dump's order: (fiber value, state)."""
    out = []
    f = _registry_head()
    while int(f) != 0:
        dbg = f["dbg"]
        state = int(dbg["state"]) & 0xFF  # without FJ__VIEW_SAMPLED (fiber_debug.h)
        if state in _STATES and int(f["job_ctx"]) != 0 and int(f["worker"]) != 0:
            out.append((f, state))
        f = dbg["reg_next"]
    return out


def _symbol(addr):
    block = gdb.block_for_pc(addr)
    while block is not None and block.function is None:
        block = block.superblock
    if block is not None:
        return block.function.print_name
    try:
        text = gdb.execute("info symbol 0x%x" % addr, to_string=True)
        if not text.startswith("No symbol"):
            return text.split(" in section")[0].split(" + ")[0].strip()
    except gdb.error:
        pass
    return "0x%x" % addr


def job_name(ctx):
    name = ctx["name"]
    if int(name) != 0:
        try:
            return name.string()
        except gdb.error:
            pass
    return _symbol(int(ctx["fn"]))


def saved_registers(fiber):
    """The registers fiber's context saved when it was switched away from."""
    ctx = int(fiber["ctx"])
    raw = bytes(gdb.selected_inferior().read_memory(ctx, 0x40))
    words = struct.unpack("<8Q", raw)
    regs = dict(zip(_SAVED, words[1:7]))
    regs["rip"] = words[7]
    regs["rsp"] = ctx + 0x40
    return regs


def _describe(fiber, state):
    text = "%s" % _STATES[state]
    if state in (3, 4):
        c = fiber["dbg"]["parked_on"]
        if int(c) != 0:
            word = int(c["state"])
            text += " on counter 0x%x (value %d, %d waiters)" % (
                int(c), word >> 32, (word & 0xffffff00) >> 8)
    return text


class InfoFibers(gdb.Command):
    """List libfiberjob's suspended fibers: index, fiber, worker, job, state."""

    def __init__(self):
        super().__init__("info fibers", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        fibers = suspended_fibers()
        if not fibers:
            print("No suspended fibers.")
            return
        for i, (f, state) in enumerate(fibers):
            ctx = f["job_ctx"]
            regs = saved_registers(f)
            print('%s%-3d fiber 0x%x  worker %d  job "%s"  %s  (resumes in %s)' % (
                "*" if _switched and _switched["fiber"] == int(f) else " ", i, int(f),
                int(f["worker"]["index"]), job_name(ctx), _describe(f, state),
                _symbol(regs["rip"])))


def _set_registers(regs):
    gdb.execute("select-frame 0", to_string=True)
    for name in _SWITCHED_REGS:
        gdb.execute("set $%s = 0x%x" % (name, regs[name]), to_string=True)


class Fiber(gdb.Command):
    """fiber N: show suspended fiber N (see info fibers) in the selected thread.
fiber: switch back to the thread's own registers."""

    def __init__(self):
        super().__init__("fiber", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        global _switched
        arg = arg.strip()
        if not arg:
            if _switched is None:
                print("Not switched to a fiber.")
                return
            gdb.execute("thread %d" % _switched["thread"], to_string=True)
            _set_registers(_switched["regs"])
            _switched = None
            print("Back on the thread's own stack.")
            return
        try:
            index = int(arg, 0)
        except ValueError:
            raise gdb.GdbError("usage: fiber [N]")
        fibers = suspended_fibers()
        if not 0 <= index < len(fibers):
            raise gdb.GdbError("no fiber %d (info fibers lists %d)" % (index, len(fibers)))
        fiber, state = fibers[index]
        regs = saved_registers(fiber)
        if _switched is None:
            frame = gdb.newest_frame()
            _switched = {
                "thread": gdb.selected_thread().num,
                "regs": {r: int(frame.read_register(r)) & (2**64 - 1) for r in _SWITCHED_REGS},
            }
        _switched["fiber"] = int(fiber)
        _set_registers(regs)
        print('Fiber %d: job "%s", %s.  `fiber` switches back.' % (
            index, job_name(fiber["job_ctx"]), _describe(fiber, state)))
        gdb.execute("frame 0")


def _on_cont(event):
    if _switched is not None:
        print("fiberjob: warning: resuming while switched to a fiber; the thread runs the "
              "fiber's registers.  Use `fiber` before continuing.")


InfoFibers()
Fiber()
gdb.events.cont.connect(_on_cont)
