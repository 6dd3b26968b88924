"""SECURITY.md maps each ASVS requirement to the tests that prove it: every test it names
must exist, so a renamed or deleted test cannot leave the map pointing at nothing."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

# `dir/test_x.py::test_name`, and the `::test_other` that follow it in the same cell.
CELL_RE = re.compile(r"`([\w/]+\.py)(?:::(\w+))?`((?:,? (?:live )?`::\w+`)*)")


def _functions(path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_security_md_names_exists():
    text = (ROOT / "SECURITY.md").read_text("utf-8")
    named = 0
    for match in CELL_RE.finditer(text):
        path = ROOT / match[1] if match[1].startswith("tests/") else ROOT / "tests" / match[1]
        assert path.is_file(), f"SECURITY.md names {match[1]}, which does not exist"
        names = [match[2], *re.findall(r"`::(\w+)`", match[3] or "")]
        defined = _functions(path)
        for name in filter(None, names):
            assert name in defined, f"SECURITY.md names {match[1]}::{name}, which does not exist"
            named += 1
    assert named > 80  # the map is there and was read
