# SPDX-License-Identifier: MIT
"""The package's shape: one module per concern, no import circle, typed
public names, exception classes that tools can see."""
import ast
import inspect
import os

import fiberjob

PKG_DIR = os.path.dirname(fiberjob.__file__)


def _module_imports(path):
    """Sibling modules a module imports anywhere in its text: at import time,
    under ``if TYPE_CHECKING:`` and inside functions alike, since a circle
    only type checkers or a lazy call follow is still a circle in the design."""
    tree = ast.parse(open(path).read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(a.name for a in node.names)
            elif node.level == 0 and node.module and node.module.startswith("fiberjob."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("fiberjob."))
    return found - {"_ffi"}


def test_no_import_circle():
    mods = {f[:-3] for f in os.listdir(PKG_DIR) if f.endswith(".py")} - {"__init__"}
    graph = {m: _module_imports(os.path.join(PKG_DIR, m + ".py")) & mods for m in mods}
    assert graph["system"], "the graph reader found no edges at all"
    # Edges that only a TYPE_CHECKING block or a function body holds count:
    # the reader must see system.py's lazy import of aio.
    assert "aio" in graph["system"], "the graph reader misses imports inside functions"
    assert "counter" in graph["aio"], "the graph reader misses TYPE_CHECKING imports"
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "active", "import circle: " + " -> ".join(path + [m])
        state[m] = "active"
        for dep in sorted(graph[m]):
            visit(dep, path + [m])
        state[m] = "done"

    for m in sorted(mods):
        visit(m, [])


def test_py_typed_marker_is_shipped():
    assert os.path.isfile(os.path.join(PKG_DIR, "py.typed"))


def _public_callables():
    for name in fiberjob.__all__:
        obj = getattr(fiberjob, name)
        if inspect.isclass(obj):
            if issubclass(obj, BaseException) or issubclass(obj, int):
                continue   # exception and enum signatures come from the base
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, property):
                    yield "%s.%s" % (name, attr), member.fget
                elif inspect.isfunction(member):
                    yield "%s.%s" % (name, attr), member
        elif inspect.isfunction(obj):
            yield name, obj
    for name in fiberjob.native.__all__:
        obj = getattr(fiberjob.native, name)
        if inspect.isfunction(obj):
            yield "native." + name, obj


def test_every_public_callable_is_annotated():
    checked = 0
    for name, fn in _public_callables():
        sig = inspect.signature(fn)
        assert sig.return_annotation is not inspect.Signature.empty, name
        for p in sig.parameters.values():
            if p.name in ("self", "cls"):
                continue
            assert p.annotation is not inspect.Parameter.empty, "%s(%s)" % (name, p.name)
        checked += 1
    assert checked > 20


def test_exception_classes_are_real_classes_with_docs():
    errs = [getattr(fiberjob, n) for n in fiberjob.__all__
            if inspect.isclass(getattr(fiberjob, n))
            and issubclass(getattr(fiberjob, n), BaseException)]
    assert len(errs) >= 13
    for cls in errs:
        assert cls.__module__ == "fiberjob.errors", cls
        assert cls.__doc__ and cls.__doc__.strip(), cls
        # a real class statement: the source defines it
        assert "class %s(" % cls.__name__ in inspect.getsource(cls)
    for cls in errs:
        if cls not in (fiberjob.FiberJobError, fiberjob.JobError):
            assert issubclass(cls, fiberjob.FiberJobError)
            assert isinstance(fiberjob.error_for_code(cls.code), cls)


def _declared(proto):
    """The methods, properties and attributes a Protocol class itself declares."""
    own = vars(proto)
    methods = [n for n, v in own.items() if inspect.isfunction(v) and not n.startswith("__")]
    props = [n for n, v in own.items() if isinstance(v, property)]
    return methods, props, list(own.get("__annotations__", {}))


def test_jobsystem_has_what_systemlike_names(js):
    # counter, jobs and aio name the SystemLike Protocols instead of JobSystem
    # (no import circle); a member JobSystem lost or renamed would only show
    # as an AttributeError deep in a job, so check the shape here.
    from fiberjob.systemlike import SystemInternals, SystemLike
    for proto in (SystemLike, SystemInternals):
        methods, props, attrs = _declared(proto)
        for name in attrs:
            assert hasattr(js, name), name
        for name in props:
            assert isinstance(getattr(type(js), name), property), name
        for name in methods:
            real = getattr(type(js), name)
            want = list(inspect.signature(getattr(proto, name)).parameters)
            assert list(inspect.signature(real).parameters) == want, name
    methods, props, attrs = _declared(SystemInternals)
    assert "_submit" in methods and "_g" in attrs


def test_systemlike_is_the_whole_public_surface(js):
    # ctx.system and counter.system are typed SystemLike: whatever a job may
    # call on its JobSystem has to be declared there, or type checkers reject it.
    from fiberjob.systemlike import SystemLike
    cls = type(js)
    public = {n for n in dir(cls) if not n.startswith("_")}
    public |= {n for n in vars(cls).get("__annotations__", {}) if not n.startswith("_")}
    methods, props, attrs = _declared(SystemLike)
    assert "run" in public and "stack_size" in public
    assert set(methods) | set(props) | set(attrs) == public
