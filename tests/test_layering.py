"""The file tree stays the concept map: small modules, small functions, imports that go one way.

These are the layering issue's "done when" checks, kept so that later work cannot quietly grow a
monolith again: no app module over 500 lines, no function over 60, no import cycle among the
app's modules, and no Flask under broker/. Imports under `if TYPE_CHECKING:` only name types for
annotations (a queue's consumers, a consumer's queue) and are left out of the cycle check.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("broker", "amqp", "clients", "eventloop", "simulation", "lessons", "web")
TOP_MODULES = ("app.py", "gc_tuning.py", "dev.py")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def app_modules() -> dict[str, Path]:
    """Dotted name -> path, for every Python module of the app (not tests, bench, examples)."""
    found = {path.stem: ROOT / path for path in map(Path, TOP_MODULES)}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def type_checking_blocks(tree: ast.Module) -> set[int]:
    """The ids of import nodes inside `if TYPE_CHECKING:` blocks."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            inside.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return inside


def imported_names(path: Path, module: str, runtime_only: bool = False) -> set[str]:
    """Every module name an import statement in the file names (relative ones resolved)."""
    names = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    skipped = type_checking_blocks(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {
        name: {
            other
            for other in imported_names(path, name, runtime_only=True)
            if other in modules and other != name
        }
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def package_import_only(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ re-exports its modules; `from pkg.mod import x` names `pkg` too,
    which is not a dependency of the module on its own package's other modules."""
    return {
        name: {other for other in targets if not name.startswith(other + ".")}
        for name, targets in graph.items()
    }


def test_no_import_cycles():
    assert cycles(package_import_only(import_graph())) == []


def test_the_broker_never_imports_flask():
    for name, path in app_modules().items():
        if name == "broker" or name.startswith("broker."):
            imported = imported_names(path, name)
            assert not any(n.split(".")[0] in ("flask", "flask_sock", "werkzeug") for n in imported)


def test_no_module_is_a_monolith():
    sizes = {name: len(path.read_text().splitlines()) for name, path in app_modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_no_function_is_a_monolith():
    long = {}
    for name, path in app_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = length
    assert long == {}
