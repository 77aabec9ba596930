"""The package's import graph: layers (core < corpus < search < check < spar < coach, evals <
app < cli < tools) imported only downwards and tools by nothing of the product, no cycles
(imports inside functions count), no module that probes for its own modules, the checker a
leaf that knows no LLM, and no function over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "debate"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> modules of debate it imports anywhere in its body (functions included)."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in paths}
    for mod, path in paths.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                # "from pkg import submodule" depends on the submodule, not on pkg's body
                subs = [f"{base}.{a.name}" for a in node.names]
                targets = subs + ([base] if any(t not in paths for t in subs) else [])
            else:
                continue
            graph[mod].update(t for t in targets if t in paths and t != mod)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


# Lowest first. A module may import its own layer and the layers below it; coach and evals
# share a rank (both read rounds played by spar) but do not import each other.
LAYERS = [
    ("core",),
    ("corpus",),
    ("search",),
    ("check",),
    ("cards",),
    ("spar",),
    ("coach", "evals"),
    ("app",),
    ("cli",),
    ("tools",),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_FUNCTION_LINES = 60


def layer_of(module: str) -> str:
    """debate.<layer>[.<module>...]; the package root and debate.cli are the cli layer."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "cli":
        return "cli"
    if parts[1] not in RANK:
        raise AssertionError(f"{module} is in no layer: put it in one of {sorted(RANK)}")
    return parts[1]


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up the layers, sideways between two layers of one rank, or
    into the tools from the product."""
    bad = []
    for mod, targets in sorted(graph.items()):
        here = layer_of(mod)
        for target in sorted(targets):
            there = layer_of(target)
            if there == here:
                continue
            if there == "tools" or RANK[there] >= RANK[here]:
                bad.append(f"{mod} ({here}) imports {target} ({there})")
    return bad


def test_every_import_goes_down_the_layers_and_nothing_imports_the_tools():
    assert wrong_way_imports(import_graph()) == []


@pytest.mark.parametrize(
    "importer, imported",
    [
        ("debate.corpus.ingest", "debate.search.retrieval"),  # corpus reaching up into search
        ("debate.spar.transcript", "debate.coach.flow"),  # the Turn record pulling in coaching
        ("debate.coach.feedback", "debate.evals.suites"),  # sideways between one rank
        ("debate.app.handlers", "debate.tools.bench"),  # the product importing tooling
    ],
)
def test_the_layer_check_catches_a_planted_wrong_way_import(importer, imported):
    graph = import_graph()
    assert imported not in graph[importer]
    graph[importer].add(imported)
    assert wrong_way_imports(graph) == [
        f"{importer} ({layer_of(importer)}) imports {imported} ({layer_of(imported)})"
    ]


def test_a_module_outside_every_layer_is_refused():
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("debate.helpers")


def long_functions(source: str, path: str = "") -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                out.append(f"{path}:{node.lineno} {node.name} ({lines} lines)")
    return out


def test_no_function_is_over_sixty_lines():
    found = [
        x
        for p in sorted(PACKAGE.rglob("*.py"))
        for x in long_functions(p.read_text(encoding="utf-8"), str(p.relative_to(PACKAGE)))
    ]
    assert found == []


def test_the_length_check_counts_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}\n") == [":1 f (61 lines)"]
    assert long_functions("def g():\n    return 1\n") == []


def test_package_has_no_import_cycle_even_through_imports_inside_functions():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


def test_no_module_probes_for_its_own_modules():
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if "find_spec" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_checker_is_a_deterministic_leaf_that_reaches_no_llm_code():
    below = reachable(import_graph(), "debate.check.faithfulness")
    assert not below & {
        "debate.check.judge",
        "debate.check.guard",
        "debate.core.chat_model",
        "debate.spar.engines",
        "debate.spar.engines.llm",
        "debate.spar.session",
    }
