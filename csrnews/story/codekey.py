"""A Python module's code as its syntax tree: what a key of code changes with, docs left out."""

from __future__ import annotations

import ast


def code_of(source: bytes) -> bytes:
    """A module's code as its syntax tree, without comments, layout or docstrings: an edit of
    those alone changes no key made of it (the source itself when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()
