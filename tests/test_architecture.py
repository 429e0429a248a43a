"""The shape of geoservice/: no import cycle, no module over 400 lines, no work at import time.

The import graph is read from the source with `ast`: every ``import geoservice…`` and
``from geoservice… import …``, inside functions too (a cycle through a function-level import
is still a cycle of responsibilities), except under ``if TYPE_CHECKING:``. ``from a import
b`` is an arrow to ``a.b`` when that is a module, else to ``a``.

Import time is measured once, in one fresh interpreter importing every module with
``python -X importtime``; a module's own cost is the sum of the self-times of the geoservice
modules it brings in when imported alone (its import-time closure in the graph, i.e. without
the function-level imports), so third-party libraries (pandas, shapely, flask …) do not
count, only what our code does when it is imported.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_ROOT = REPO_ROOT / "geoservice"
MAX_LINES = 400
MAX_OWN_IMPORT_SECONDS = 0.3
# Modules the light parts of the service (errors, settings, access rules, the collection
# and layer definitions, the per-app services, text helpers) import; pandas costs ~0.2-2 s.
LIGHT_MODULES = ("geoservice.errors", "geoservice.config", "geoservice.access",
                 "geoservice.collections", "geoservice.layers.catalog", "geoservice.services",
                 "geoservice.text")
HEAVY_LIBRARIES = ("pandas",)
# Not imported by the import-time test: the WSGI entry point builds the app when imported
# (that is its job), and alembic runs the migration scripts itself, inside its context.
NOT_IMPORTED = ("geoservice.wsgi", "geoservice.store.migrations.")


@dataclass(frozen=True)
class Arrow:
    """One import of a geoservice module by another."""

    source: str
    target: str
    line: int
    at_import: bool  # False inside a function body: runs only when the function does

    def where(self) -> str:
        """Return ``path:line`` of the import statement."""
        return f"{module_path(self.source).relative_to(REPO_ROOT)}:{self.line}"


@cache
def modules() -> dict[str, Path]:
    """Every module under geoservice/ by dotted name (a package by its __init__.py)."""
    found = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def module_path(name: str) -> Path:
    return modules()[name]


def _resolve(name: str) -> str | None:
    """The module `name` is, or the nearest existing module above it (None: not ours)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package = module, is_package
        self.arrows: list[Arrow] = []
        self.function_depth = 0

    def _base(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.module if self.is_package else self.module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{node.module}" if node.module else package

    def _add(self, target: str, node: ast.stmt) -> None:
        resolved = _resolve(target) if target.split(".")[0] == "geoservice" else None
        if resolved is not None and resolved != self.module:
            self.arrows.append(Arrow(self.module, resolved, node.lineno,
                                     at_import=self.function_depth == 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._base(node)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in modules() else base, node)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):  # annotations only: never imported at run time
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _visit_function(self, node) -> None:
        self.function_depth += 1
        self.generic_visit(node)
        self.function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


@cache
def arrows() -> tuple[Arrow, ...]:
    """Every import between geoservice modules, in file order."""
    found = []
    for name, path in modules().items():
        visitor = _ImportVisitor(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += visitor.arrows
    return tuple(found)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of `graph` (iterative, any size)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_cycle(start: str, members: set[str], edges: dict[tuple[str, str], Arrow]):
    """The shortest cycle from `start` back to itself inside one component, as arrows."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for (source, target), _arrow in edges.items():
            if source != node or target not in members:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                nodes = [start, *reversed(path[:-1]), start]
                return [edges[pair] for pair in zip(nodes, nodes[1:])]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    return []


def test_strongly_connected_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert sorted(strongly_connected(graph)) == [["a", "b", "c"], ["d", "e"], ["f"]]


def test_no_import_cycle():
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    edges: dict[tuple[str, str], Arrow] = {}
    for arrow in arrows():
        graph[arrow.source].add(arrow.target)
        edges.setdefault((arrow.source, arrow.target), arrow)
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    report = []
    for component in cycles:
        shortest = _shortest_cycle(component[0], set(component), edges)
        steps = "\n".join(f"      {a.source} -> {a.target}  ({a.where()}"
                          f"{'' if a.at_import else ', in a function'})" for a in shortest)
        report.append(f"  {len(component)} modules import each other: {', '.join(component)}\n"
                      f"    for example:\n{steps}")
    assert not cycles, (
        f"{len(cycles)} import cycle(s) in geoservice/; make the arrows point one way (move "
        "the shared part into a module both can import):\n" + "\n".join(report))


def test_no_module_over_400_lines():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in modules().items()}
    offenders = sorted(((n, name) for name, n in sizes.items() if n > MAX_LINES), reverse=True)
    assert not offenders, (
        f"{len(offenders)} module(s) over {MAX_LINES} lines; split them by concern:\n"
        + "\n".join(f"  {n:5d}  {module_path(name).relative_to(REPO_ROOT)}"
                    for n, name in offenders))


# --- import time ----------------------------------------------------------------------

IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def _importtime(code: str) -> tuple[list[tuple[int, int, str]], str]:
    """Run `code` in a fresh interpreter with -X importtime: ([(self µs, depth, name)], err)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    entries, other = [], []
    for line in result.stderr.splitlines():
        match = IMPORTTIME.match(line)
        if match:
            entries.append((int(match[1]), len(match[3]) // 2, match[4]))
        elif not line.startswith("import time:"):
            other.append(line)
    assert result.returncode == 0, "\n".join(other)[-3000:]
    return entries, "\n".join(other)


def _import_time_closure(name: str) -> set[str]:
    """The geoservice modules importing `name` alone runs (module-level imports, packages)."""
    at_import: dict[str, set[str]] = {}
    for arrow in arrows():
        if arrow.at_import:
            at_import.setdefault(arrow.source, set()).add(arrow.target)
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parent = current.rpartition(".")[0]
        todo += [*at_import.get(current, ()), *([parent] if parent else [])]
    return seen


def test_no_work_at_import_time():
    names = [name for name in modules() if not name.startswith(NOT_IMPORTED)]
    # import statements, not importlib.import_module: -X importtime does not time the latter
    entries, _ = _importtime("\n".join(f"import {name}" for name in names))
    own = {name: micros / 1e6 for micros, _depth, name in entries
           if name.split(".")[0] == "geoservice"}
    slow = []
    for name in names:
        closure = _import_time_closure(name)
        seconds = sum(own.get(member, 0.0) for member in closure)
        if seconds >= MAX_OWN_IMPORT_SECONDS:
            top = sorted(((own.get(m, 0.0), m) for m in closure), reverse=True)[:3]
            slow.append(f"  {name}: {seconds:.2f} s of our own code, most in "
                        + ", ".join(f"{m} ({s:.2f} s)" for s, m in top))
    assert not slow, (
        f"importing these modules runs {MAX_OWN_IMPORT_SECONDS} s or more of geoservice code "
        "(beyond the libraries they need); do that work when it is needed, not on import:\n"
        + "\n".join(slow))


def _importer_chain(entries: list[tuple[int, int, str]], library: str) -> list[str]:
    """Who imported `library`: its ancestors in the -X importtime tree, outermost first."""
    for position, (_micros, depth, name) in enumerate(entries):
        if name != library:
            continue
        chain, wanted = [], depth - 1
        for _m, later_depth, later_name in entries[position + 1:]:  # parents follow children
            if later_depth == wanted:
                chain.append(later_name)
                wanted -= 1
        return [*reversed(chain), library]
    return []


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_do_not_import_pandas(module):
    entries, _ = _importtime(f"import {module}")
    imported = {name for _micros, _depth, name in entries}
    heavy = [library for library in HEAVY_LIBRARIES if library in imported]
    assert not heavy, "\n".join(
        f"importing {module} imports {library}: {' -> '.join(_importer_chain(entries, library))}"
        for library in heavy)
