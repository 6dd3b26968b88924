"""The package layers of docs/ARCHITECTURE.md, checked over the source with ``ast``.

A module may import only modules of its own layer or of layers below it; imports of the
portal happen at module level (a function-level import is how a cycle hides), except in the
application factory; and no two modules import each other, directly or around a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PORTAL = ROOT / "portal"

# Bottom first. A top-level module or package of portal/ not listed here fails the test:
# a new package must be given its place.
LAYERS: list[set[str]] = [
    {
        "config",
        "extensions",
        "dbtypes",
        "database",
        "pagecache",
        "frontcache",
        "logs",
        "security",
        "forms",
        "errors",
        "pagination",
        "business",
    },
    # Infrastructure: copies the whole database by its URL, knowing no package's tables.
    {"backup"},
    {"cli_support"},
    {"customers"},
    {"audit"},
    {"mail"},
    {"auth"},
    {"policy"},
    {"billing"},
    {"account"},
    {"withdrawal", "retention"},
    {"admin"},
    # Re-encrypts the columns of every package below (staff OTP secrets included).
    {"keys"},
    # The assembly: the pages that combine packages, the template filters, the commands,
    # the error pages, the demo data and the factory.
    {"main", "templating", "models", "demo", "cli", "__init__"},
]
# Where a function-level import of the portal is expected: the factory imports each
# package's blueprint and commands when it assembles the app.
FUNCTION_IMPORTS_ALLOWED = {"portal/__init__.py"}


def _layer_of(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else "__init__"
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"portal.{top} has no layer in tests/test_layers.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] if len(parts) > 1 else parts
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if not prefix.startswith("portal"):
        return []
    # "from portal.auth import services" names a module; "from portal.auth.x import f" not.
    names = [f"{prefix}.{alias.name}" for alias in node.names]
    return [name if _exists(name) else prefix for name in names]


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports() -> dict[str, list[tuple[str, bool, int]]]:
    """module → [(imported portal module, at module level?, line)]."""
    found: dict[str, list[tuple[str, bool, int]]] = {}
    for path in sorted(PORTAL.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        rows = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(node, module, path.name == "__init__.py")
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("portal")]
            else:
                continue
            rows += [(t, id(node) in top_level, node.lineno) for t in targets]
        found[module] = rows
    return found


def test_every_import_goes_down_the_layers():
    wrong = []
    for module, rows in _imports().items():
        for target, _, line in rows:
            if _layer_of(target) > _layer_of(module):
                wrong.append(f"{module}:{line} imports {target} (a layer above)")
    assert wrong == [], "\n".join(wrong)


def test_no_function_level_imports_of_the_portal():
    hidden = []
    for module, rows in _imports().items():
        path = module.replace(".", "/")
        if f"{path}/__init__.py" in FUNCTION_IMPORTS_ALLOWED or f"{path}.py" in (
            FUNCTION_IMPORTS_ALLOWED
        ):
            continue
        hidden += [
            f"{module}:{line} imports {t} inside a function" for t, top, line in rows if not top
        ]
    assert hidden == [], "\n".join(hidden)


def test_no_import_cycles():
    graph = {
        module: {t for t, top, _ in rows if top and t != module}
        for module, rows in _imports().items()
    }
    # Importing a submodule runs its package's __init__ first; a package __init__ that
    # re-exports nothing of its children is no edge back to them.
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt in graph and not state.get(nxt):
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if not state.get(module):
            visit(module, [module])
    assert cycles == [], "\n".join(cycles)
