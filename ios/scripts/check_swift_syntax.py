#!/usr/bin/env python3
"""Syntax check of Swift files with tree-sitter, for machines without a Swift compiler.

Owns: parsing each file given on the command line and printing one verdict line per file,
`PASS <path>` or `FAIL <path>` followed by indented `path:line:column: ...` details. Exits 1 when
any file fails. Does not own which files are checked, nor installing tree-sitter: `cargo xtask`
(xtask/src/swift.rs, xtask/src/tools.rs) does both.

What it can and cannot find: a parse catches syntax errors (an unbalanced brace, a misspelt
keyword, a broken string interpolation). It does not type-check: an unknown name or a wrong
argument label passes here and fails only in a real `swift build` on macOS.
"""

import re
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser

# Valid Swift that tree-sitter-swift 0.7.4 cannot parse, each rewritten to something of the same
# length (so line and column numbers in reports still point into the real file) that it can:
# - uniffi's `@_documentation(visibility: private)`, an underscored attribute the grammar does not
#   know: blanked.
# - the empty tuple `()` used as a value, which the grammar lacks; uniffi writes the Void-returning
#   closure `{ () }` for callbacks that return nothing: turned into `{ [] }`.
# Keep this list short and specific: every rewrite is a spot the check no longer sees.
GRAMMAR_GAPS = [
    (re.compile(rb"@_documentation\([^)]*\)"), lambda m: b" " * len(m.group(0))),
    (re.compile(rb"\{ \(\) \}"), lambda m: b"{ [] }"),
]

MAX_REPORTS_PER_FILE = 10


def problems(tree):
    """Yields (node, kind) for every ERROR or MISSING node, outermost first."""
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            yield node, "MISSING " + node.type
        elif node.type == "ERROR":
            yield node, "ERROR"
            # The children of an ERROR node are the tokens it swallowed: not separate problems.
            continue
        if node.has_error:
            stack.extend(reversed(node.children))


def check(parser: Parser, path: str) -> bool:
    with open(path, "rb") as file:
        source = file.read()
    for pattern, replacement in GRAMMAR_GAPS:
        source = pattern.sub(replacement, source)
    tree = parser.parse(source)
    found = list(problems(tree))
    if not found:
        print(f"PASS {path}")
        return True
    print(f"FAIL {path}")
    for node, kind in found[:MAX_REPORTS_PER_FILE]:
        row, column = node.start_point
        line = source.splitlines()[row] if row < len(source.splitlines()) else b""
        excerpt = line.decode("utf-8", "replace").strip()[:80]
        print(f"  {path}:{row + 1}:{column + 1}: {kind} near `{excerpt}`")
    if len(found) > MAX_REPORTS_PER_FILE:
        print(f"  ... and {len(found) - MAX_REPORTS_PER_FILE} more")
    return False


def main(paths) -> int:
    if not paths:
        print("usage: check_swift_syntax.py FILE.swift...", file=sys.stderr)
        return 2
    parser = Parser(Language(tree_sitter_swift.language()))
    results = [check(parser, path) for path in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
