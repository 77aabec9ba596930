"""The README's layout section is the tree: every module and subpackage of debate/ is in it,
and everything in it exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.]+(?:\.py|/))(?:\s+(?P<what>.*))?$")


def listed(readme: str) -> set[str]:
    """Paths (relative to the repository) that the Layout block of the README names under
    debate/: one entry per line, two spaces of indent per level; a folder line may name
    its modules in its description ("base.py, evidence.py (offline), ...")."""
    section = readme.split("\n## Layout\n", 1)[1]
    block = section.split("```\n", 2)[1]
    paths: set[str] = set()
    stack: list[str] = []
    for line in block.splitlines():
        m = ENTRY.match(line)
        if not m:
            continue
        depth = len(m["indent"]) // 2
        if depth == 0 and m["name"] != "debate/":
            break  # the top-level folders after the package
        stack = stack[:depth] + [m["name"]]
        path = "".join(stack)
        paths.add(path.rstrip("/"))
        if m["name"].endswith("/") and m["what"]:
            paths.update(path + f for f in re.findall(r"\b(\w+\.py)\b", m["what"]))
    return paths


def in_tree() -> set[str]:
    package = ROOT / "debate"
    out = {"debate"}
    for p in package.rglob("*.py"):
        rel = p.relative_to(ROOT)
        if "__pycache__" in rel.parts:
            continue
        out.update(str(parent) for parent in rel.parents if parent != Path("."))
        if p.name != "__init__.py":
            out.add(str(rel))
    return out


def test_the_readme_layout_names_every_module_and_nothing_else():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names, tree = listed(readme), in_tree()
    assert sorted(tree - names) == [], "in debate/ but not in the README's layout"
    assert sorted(names - tree) == [], "in the README's layout but not in debate/"


def test_the_layout_reader_sees_a_missing_and_an_invented_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = listed(readme)
    assert "debate/spar/engines/evidence.py" in names and "debate/core/text.py" in names
    broken = readme.replace("    text.py ", "    txt.py ", 1)
    assert "debate/core/text.py" not in listed(broken)
    assert "debate/core/txt.py" in listed(broken)
