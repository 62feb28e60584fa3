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

Where a suspended context keeps its registers is Boost.Context's
jump_fcontext layout, as lib/fcontext_regs.c describes; the fcontext_t is
the stack pointer at the switch.  x86-64 System V: at +0x08 r12, +0x10
r13, +0x18 r14, +0x20 r15, +0x28 rbx, +0x30 rbp, +0x38 the resume address;
the stack pointer after resuming is fcontext_t + 0x40.  aarch64: at +0x00
d8 ... +0x38 d15, +0x40 x19 ... +0x98 x30, +0xa0 the resume address; sp
after resuming is fcontext_t + 0xb0.  An aarch64 program run by
qemu-aarch64 is debugged with gdb-multiarch through qemu's gdb stub
(`qemu-aarch64 -g PORT prog`, then `target remote :PORT`).
"""
import struct

import gdb

_STATES = {2: "ready after a yield", 3: "parked", 4: "woken, not yet resumed"}


class _Layout:
    """One architecture's saved block: size, the registers in it as
    (gdb expression, offset), and the names of its pc and sp."""

    def __init__(self, size, saved, pc, pc_offset, sp):
        self.size, self.saved, self.pc, self.pc_offset, self.sp = size, saved, pc, pc_offset, sp
        # Everything `fiber` changes, so everything it puts back.
        self.switched = (pc, sp) + tuple(name for name, _ in saved)


_LAYOUTS = {
    "i386:x86-64": _Layout(
        0x40, (("$r12", 0x08), ("$r13", 0x10), ("$r14", 0x18), ("$r15", 0x20),
               ("$rbx", 0x28), ("$rbp", 0x30)), "$rip", 0x38, "$rsp"),
    # d8-d15 are the low halves of v8-v15 (all AAPCS64 preserves); gdb
    # shows each as a union whose .u member is the raw 64 bits.
    "aarch64": _Layout(
        0xb0, tuple(("$d%d.u" % (8 + i), 8 * i) for i in range(8)) +
        tuple(("$x%d" % (19 + i), 0x40 + 8 * i) for i in range(12)), "$pc", 0xa0, "$sp"),
}


def _layout():
    arch = gdb.selected_inferior().architecture().name()
    if arch not in _LAYOUTS:
        raise gdb.GdbError("fiberjob: no fcontext layout known for architecture %s "
                           "(x86-64 and aarch64 only)" % arch)
    return _LAYOUTS[arch]


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
    """The registers fiber's context saved when it was switched away from,
    by gdb expression ($pc or $rip, $sp or $rsp, and the callee-saved ones)."""
    layout = _layout()
    ctx = int(fiber["ctx"])
    raw = bytes(gdb.selected_inferior().read_memory(ctx, layout.size))
    regs = {name: struct.unpack_from("<Q", raw, off)[0] for name, off in layout.saved}
    regs[layout.pc] = struct.unpack_from("<Q", raw, layout.pc_offset)[0]
    regs[layout.sp] = ctx + layout.size
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
                _symbol(regs[_layout().pc])))


def _set_registers(regs):
    for name in _layout().switched:
        # Each write rebuilds gdb's frames and may leave an outer frame
        # selected, whose registers are computed and cannot be assigned.
        gdb.execute("select-frame 0", to_string=True)
        gdb.execute("set %s = 0x%x" % (name, regs[name]), to_string=True)


def _current_registers():
    gdb.execute("select-frame 0", to_string=True)
    return {name: int(gdb.parse_and_eval(name)) & (2**64 - 1) for name in _layout().switched}


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
            _switched = {"thread": gdb.selected_thread().num, "regs": _current_registers()}
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
