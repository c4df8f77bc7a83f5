"""The layout stays a tree: no import cycles among handlers/, models/, cli/ and jobs/, none hidden in functions.

The graph is read from each module's top-level imports (``ast``, nothing
executed); then every module is really imported, so a module that only works
when something else was imported first fails here too.
"""
import ast
import importlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("handlers", "models", "cli", "jobs")


def project_modules():
    """{dotted module name: path} for every module of the packages (migrations included)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_names(node):
    """Dotted names an import statement may bind: ``from a import b`` gives ``a`` and ``a.b``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def import_graph(modules):
    """{module: set of project modules it imports at top level}."""
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {imported for node in tree.body for imported in imported_names(node)}
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def find_cycle(graph):
    """One cycle as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_cycle_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_graph_reads_real_imports():
    graph = import_graph(project_modules())
    assert "models.memberships" in graph["models.messages"]
    assert {"models.memberships", "models.messages"} <= graph["models.chats"]
    assert "handlers.realtime.bus" in graph["handlers.realtime.hub"]


def test_no_import_cycles():
    cycle = find_cycle(import_graph(project_modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_project_imports_inside_functions():
    """A function-level import of our own modules is how a cycle hides; the graph must show every edge."""
    hidden = []
    for name, path in project_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top_level = set(map(id, tree.body))
        for node in ast.walk(tree):
            if id(node) in top_level:
                continue
            if any(target.split(".")[0] in PACKAGES for target in imported_names(node)):
                hidden.append(f"{name}:{node.lineno}")
    assert not hidden, f"imports of handlers/models inside functions: {hidden}"


def test_models_never_import_handlers():
    graph = import_graph(project_modules())
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() if m.startswith("models")
                    for t in targets if t.startswith("handlers"))
    assert not upward, upward


def test_every_module_imports():
    for name in project_modules():
        importlib.import_module(name)
