"""YAML documents whose errors point at lines: load once, then ask for the line of any path.

Used by every importer of YAML (site design documents, blueprints, lab files) so that an
error reads ``line 42: devices[3].interfaces[1].mtu: must be at least 68``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from turnup.core.errors import ApplicationError

Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


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


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def yaml_load(text: str, *, what: str = "document") -> YamlDocument:
    """Parse YAML safely; a syntax error becomes an ApplicationError naming line and column."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        raise ApplicationError(
            f"The {what} is not valid YAML (line {line}): {error.problem}",
            extra={"errors": [{"line": line, "path": "(document)", "reason": str(error.problem)}]},
        ) from None
    lines: dict[Path, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(data=data, lines=lines)
