"""The module map holds: no import cycle, the core never imports its faces, ingest or eval, and
only the manifest module speaks SQL (imports are read from the source, nothing is run)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "eval", "train")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules `path` imports, at module level or inside functions alike."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, set(modules)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, or [] (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_the_graph_sees_imports_inside_functions() -> None:
    assert "eval.cli" in _graph()["rag.app.cli"]  # imported lazily, inside a function


def test_no_import_cycle() -> None:
    graph = _graph()
    # A package's __init__ importing its own submodules is not a cycle worth reporting.
    pruned = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    assert _cycle(pruned) == []


def test_the_core_never_imports_faces_ingest_eval_or_train() -> None:
    graph = _graph()
    core = [m for m in graph if m.startswith("rag") and not m.startswith("rag.app")]
    bad = {m: sorted(d for d in graph[m] if d.startswith(("rag.app", "ingest", "eval", "train")))
           for m in core}
    assert {m: d for m, d in bad.items() if d} == {}


def test_only_the_manifest_module_imports_sqlite3() -> None:
    users = [path.relative_to(ROOT).as_posix() for package in PACKAGES + ("bench",)
             for path in (ROOT / package).rglob("*.py")
             if "sqlite3" in path.read_text("utf-8")]
    assert users == ["rag/manifest.py"]
