"""The import graph follows the package map (../shared/DESIGN.md): no circles, no import from a lower row.

Every import counts, top-level and inside functions: a lazy import hides a circle, it does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ai_content_agents

ROOT = Path(ai_content_agents.__file__).parent
PKG = "ai_content_agents"

# row of each top-level module/package (lower rows may import higher rows, never the reverse)
ROWS: dict[str, int] = {
    "config": 1, "models": 1, "prompts": 1, "profiles": 1, "redact": 1, "fileio": 1,
    "store": 2, "ranking": 2,
    "integrations": 3,
    "sources": 4,
    "pipeline": 5, "runs": 5, "batch_jobs": 5,
    "newsletter": 6, "mailer": 6, "watch": 6, "webhook": 6,
    "agents": 7,
    "mcp": 8,
    "cli": 9, "__main__": 9,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith(PKG)}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith(PKG):
                continue
            out.add(target)
            for a in node.names:  # `from . import story` imports a module
                candidate = f"{target}.{a.name}"
                if (ROOT.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or \
                        (ROOT.parent / Path(*candidate.split("."))).is_dir():
                    out.add(candidate)
    return out


def _graph() -> dict[str, set[str]]:
    graph = {_module_name(p): _imports(p) for p in ROOT.rglob("*.py")}
    return {m: {t for t in deps if t in graph and t != m} for m, deps in graph.items()}


def _row(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return ROWS.get(top, 0)


def test_no_upward_imports() -> None:
    bad = sorted(
        f"{m} (row {_row(m)}) imports {t} (row {_row(t)})"
        for m, deps in _graph().items() for t in deps
        if _row(m) and _row(t) and _row(t) > _row(m)
    )
    assert not bad, "\n".join(bad)


def test_no_import_circles_between_modules() -> None:
    graph = _graph()
    # a package's __init__ importing its own modules is not a circle; drop edges from a package to its children
    for m in graph:
        graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_newsletter_never_imports_agents() -> None:
    bad = sorted(f"{m} imports {t}" for m, deps in _graph().items() if m.startswith(f"{PKG}.newsletter")
                 for t in deps if t.startswith(f"{PKG}.agents"))
    assert not bad, bad


def test_every_package_import_resolves() -> None:
    """Lazy imports inside functions included: a moved module leaves no dangling import behind."""
    bad = []
    for path in ROOT.rglob("*.py"):
        for target in _imports(path):
            p = ROOT.parent.joinpath(*target.split("."))
            if not (p.with_suffix(".py").exists() or (p / "__init__.py").exists()):
                bad.append(f"{_module_name(path)} imports {target}")
    assert not bad, bad
