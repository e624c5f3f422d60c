"""YAML documents whose errors point at lines: load once, then ask for the line of any path.

Used by every importer of YAML (site design documents, blueprints, lab files) so that an
error reads ``line 42: devices[3].interfaces[1].mtu: must be at least 68``.

Whatever the input — bytes that are not UTF-8, characters YAML refuses (NUL), nesting deep
enough to exhaust the parser's recursion, aliases that expand to billions of nodes — the
answer is one ``ApplicationError`` (HTTP 400) whose ``extra["errors"]`` lists ``line``,
``path`` and ``reason``, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from turnup.core.errors import ApplicationError

Path = tuple[str | int, ...]

# A design of 1,000 routers with 48 ports each is about 400,000 nodes; aliases that expand
# past this many (a "billion laughs" document) are refused before anything walks them.
MAX_NODES = 2_000_000


def path_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def type_name(value: Any) -> str:
    """What a parsed YAML value is, in the words of an error message (``got a list``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"  # dates and timestamps YAML recognises


@dataclass
class YamlDocument:
    """Parsed data plus the line where each mapping key or sequence item starts."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one (1-based)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, path: Path, reason: str) -> dict[str, Any]:
        return {"line": self.line(path), "path": path_text(path), "reason": reason}


def _invalid(
    what: str, reason: str, *, line: int | None = None, column: int | None = None
) -> ApplicationError:
    where = f" (line {line}, column {column})" if column else (f" (line {line})" if line else "")
    error = {"line": line, "path": "(document)", "reason": reason}
    if column:
        error["column"] = column
    return ApplicationError(
        f"The {what} is not valid YAML{where}: {reason}", extra={"errors": [error]}
    )


def yaml_text(raw: bytes | str, *, what: str = "document") -> str:
    """The text of a YAML body: UTF-8 (a byte-order mark is dropped). Bytes that are not
    UTF-8 raise an ``ApplicationError`` naming the first bad byte and its line."""
    if isinstance(raw, str):
        return raw
    try:
        return bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        bad = raw[error.start : error.start + 1].hex()
        raise _invalid(
            what, f"not UTF-8 text: byte 0x{bad} at offset {error.start}", line=line
        ) from None


def _node_count(root: yaml.Node, *, what: str) -> int:
    """How many nodes ``root`` stands for once aliases are expanded (linear time: each node's
    count is computed once). An alias inside the list or mapping it names is refused."""
    counts: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if children_done:
            open_nodes.discard(id(node))
            counts[id(node)] = min(MAX_NODES + 1, 1 + sum(counts[id(c)] for c in children))
            continue
        if id(node) in counts:
            continue
        if id(node) in open_nodes:
            raise _invalid(
                what,
                "an alias refers to the list or mapping it is part of",
                line=node.start_mark.line + 1,
            )
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in counts)
    return counts[id(root)]


def _walk(root: yaml.Node, lines: dict[Path, int]) -> None:
    """Record the line of every path; a node reached again through an alias is not walked
    again (its paths keep the line of the alias's nearest recorded ancestor)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                lines[child] = key_node.start_mark.line + 1
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(node.value))


def yaml_load(text: str | bytes, *, what: str = "document") -> YamlDocument:
    """Parse YAML safely; anything that is not a readable YAML document becomes an
    ApplicationError naming the line (and column) and the reason."""
    if not isinstance(text, str | bytes | bytearray):
        raise _invalid(what, f"expected YAML text, got {type_name(text)}")
    text = yaml_text(text, what=what)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _node_count(node, what=what) > MAX_NODES:
            raise _invalid(what, f"more than {MAX_NODES:,} values once its aliases are expanded")
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise _invalid(
            what,
            str(error.problem or error.context or error),
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (NUL, …)
        line_start = text.rfind("\n", 0, error.position) + 1
        raise _invalid(
            what,
            f"character #x{error.character:04x} is not allowed in YAML",
            line=text.count("\n", 0, error.position) + 1,
            column=error.position - line_start + 1,
        ) from None
    except yaml.YAMLError as error:
        raise _invalid(what, str(error)) from None
    except RecursionError:
        raise _invalid(what, "nested too deeply") from None
    lines: dict[Path, int] = {}
    if node is not None:
        _walk(node, lines)
    return YamlDocument(data=data, lines=lines)
