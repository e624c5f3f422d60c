"""The Jinja2 environment that turns a ``DeviceContext`` into config text.

- Sandboxed (``ImmutableSandboxedEnvironment``): a template, possibly uploaded by a user as an
  override, cannot reach Python internals or mutate the context — nor run away: strings,
  lists and the rendered text are capped at ``sandbox.MAX_OUTPUT`` characters and a render
  at ``sandbox.MAX_SECONDS`` (``sandbox.BoundedSandbox``).
- Whatever a template raises while it renders (a division by zero, a missing include, an
  include of itself, a bad filter argument, a limit) becomes ``TemplateRenderError`` naming
  the template, the line and the reason.
- ``StrictUndefined``: a missing variable raises ``TemplateRenderError`` naming the template,
  line and variable — never an empty string inside a router config.
- Templates are looked up, first match wins, in: the database (``ConfigTemplate`` rows, by
  path), the folder ``$TURNUP_DATA_DIR/templates/``, then the shipped ``templates/`` folder
  beside this module. Any path can be overridden, partials included.

Template paths: full config ``<platform>/<role>.j2`` (fallback ``<platform>/default.j2``),
bootstrap ``<platform>/<role>.bootstrap.j2`` (fallback ``<platform>/bootstrap.j2``).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import jinja2

from turnup.configs import context as context_module
from turnup.configs.context import KIND_BOOTSTRAP, KIND_FULL, PLATFORM_JUNOS, DeviceContext
from turnup.configs.sandbox import BoundedSandbox, render_budget
from turnup.core.errors import ApplicationError

SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"
CONTEXT_TYPES = frozenset(
    value
    for value in vars(context_module).values()
    if isinstance(value, type) and value.__module__ == context_module.__name__
)


class TemplateRenderError(ApplicationError):
    """A template failed: ``extra`` has ``template``, ``line`` and (if known) ``variable``."""

    status_code = 422


def junos_quote(value: object) -> str:
    """A value as one Junos set-command token: quoted when it has spaces or specials."""
    text = str(value)
    if text and re.fullmatch(r"[A-Za-z0-9_.:/\-+@,=]+", text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def ios_banner_delimiter(text: str) -> str:
    """A delimiter character for ``banner login`` that does not occur in the banner."""
    for candidate in "^#%@~|":
        if candidate not in text:
            return candidate
    raise TemplateRenderError("banner uses every delimiter character", extra={"banner": text})


def template_candidates(*, platform: str, role: str, kind: str) -> list[str]:
    if kind == KIND_FULL:
        return [f"{platform}/{role}.j2", f"{platform}/default.j2"]
    if kind == KIND_BOOTSTRAP:
        return [f"{platform}/{role}.bootstrap.j2", f"{platform}/bootstrap.j2"]
    raise ApplicationError(f"unknown config kind {kind!r}", extra={"kind": kind})


def _comment_prefix(platform: str) -> str:
    return "#" if platform == PLATFORM_JUNOS else "!"


class ConfigSandbox(BoundedSandbox):
    """The bounded sandbox, with a fast path for the render context: the frozen dataclasses of
    ``turnup.configs.context`` hold plain data, so their public attributes are safe (the
    generic check costs more than the rest of a render)."""

    def is_safe_attribute(self, obj, attr, value):
        if type(obj) in CONTEXT_TYPES and not attr.startswith("_"):
            return True
        return super().is_safe_attribute(obj, attr, value)


class OverrideLoader(jinja2.BaseLoader):
    """Templates given as text (database overrides); each gets a distinct filename
    (``override:<path>``) so an error can name the template it happened in."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = dict(mapping)

    def get_source(self, environment, template):
        if template not in self.mapping:
            raise jinja2.TemplateNotFound(template)
        source = self.mapping[template]
        if source and not source.endswith("\n"):
            source += "\n"  # an included partial must end its last line
        return source, f"override:{template}", lambda: True

    def list_templates(self):
        return sorted(self.mapping)


def build_environment(
    *, overrides: dict[str, str] | None = None, folders: Iterable[Path] = ()
) -> jinja2.Environment:
    """A fresh sandboxed environment; ``overrides`` maps template paths to their source."""
    loaders: list[jinja2.BaseLoader] = []
    if overrides:
        loaders.append(OverrideLoader(overrides))
    loaders.extend(jinja2.FileSystemLoader(str(folder)) for folder in folders)
    loaders.append(jinja2.FileSystemLoader(str(SHIPPED_TEMPLATES)))
    env = ConfigSandbox(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=bool(folders),  # files in the data-dir folder may change under us
        cache_size=800,
    )
    env.filters["jq"] = junos_quote
    env.globals["banner_delimiter"] = ios_banner_delimiter
    return env


_ENV_CACHE: dict[str, jinja2.Environment] = {}
_ENV_LOCK = threading.Lock()


def cached_environment(
    *, overrides: dict[str, str] | None = None, folders: Iterable[Path] = ()
) -> jinja2.Environment:
    """The same environment (and its compiled templates) for the same overrides and folders."""
    folders = tuple(Path(folder) for folder in folders)
    digest = hashlib.sha256()
    for path, source in sorted((overrides or {}).items()):
        digest.update(f"{path}\0{source}\0".encode())
    for folder in folders:
        digest.update(f"dir:{folder}\0".encode())
    key = digest.hexdigest()
    with _ENV_LOCK:
        env = _ENV_CACHE.get(key)
        if env is None:
            if len(_ENV_CACHE) >= 16:
                _ENV_CACHE.clear()
            env = _ENV_CACHE[key] = build_environment(overrides=overrides, folders=folders)
    return env


_UNDEFINED_NAME = re.compile(r"^'(?P<name>[^']+)' is undefined$")
_UNDEFINED_ATTR = re.compile(r"has no attribute '(?P<name>[^']+)'")


def _template_frame(tb, template_files: dict[str, str]) -> tuple[str, int] | None:
    """The innermost traceback frame that runs template code: (template name, line)."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in template_files:
            found = (template_files[filename], tb.tb_lineno)
        tb = tb.tb_next
    return found


def _template_files(env: jinja2.Environment) -> dict[str, str]:
    """Every template filename the environment knows → its template name."""
    names: dict[str, str] = {}
    cache = env.cache or {}
    for template in list(cache.values()):
        if template is not None and template.name:
            names[template.filename or "<template>"] = template.name
    return names


def _error_reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply: a template includes itself or a macro calls itself"
    if isinstance(error, jinja2.TemplateNotFound):
        return f"included template {error.name!r} does not exist"
    message = str(error) or "failed"
    if isinstance(error, jinja2.TemplateError):
        return message
    return f"{type(error).__name__}: {message}"


def render_template(
    env: jinja2.Environment, *, candidates: list[str], context: DeviceContext, kind: str
) -> str:
    """Render the first template of ``candidates`` that exists for ``context``."""
    try:
        template = env.select_template(candidates)
    except jinja2.TemplatesNotFound:
        raise TemplateRenderError(
            f"no template for {context.hostname}: tried {', '.join(candidates)}",
            extra={"candidates": candidates},
        ) from None
    except jinja2.TemplateSyntaxError as error:
        raise _syntax_error(error, context) from None
    try:
        with render_budget():
            text = template.render(device=context, vars=context.vars, kind=kind)
    except ApplicationError:
        raise  # already says what is wrong (``banner_delimiter``)
    except jinja2.TemplateSyntaxError as error:  # in an included template
        raise _syntax_error(error, context) from None
    except Exception as error:  # the template's own code failed: the user's to fix
        where = _template_frame(error.__traceback__, _template_files(env))
        template_name, line = where if where else (template.name or candidates[0], None)
        message = str(error)
        match = _UNDEFINED_NAME.search(message) or _UNDEFINED_ATTR.search(message)
        variable = (
            match.group("name") if isinstance(error, jinja2.UndefinedError) and match else None
        )
        reason = _error_reason(error)
        where = f"template {template_name}" + (f" line {line}" if line else "")
        raise TemplateRenderError(
            f"{where}: {reason} (device {context.hostname})",
            extra={
                "template": template_name,
                "line": line,
                "variable": variable,
                "reason": reason,
                "device": context.hostname,
            },
        ) from None
    return normalize_output(text, platform=context.platform, kind=kind)


def _syntax_error(error: jinja2.TemplateSyntaxError, context: DeviceContext) -> TemplateRenderError:
    return TemplateRenderError(
        f"template {error.name} line {error.lineno}: syntax error: {error.message}",
        extra={"template": error.name, "line": error.lineno, "device": context.hostname},
    )


def normalize_output(text: str, *, platform: str, kind: str) -> str:
    """Strip trailing spaces and repeated blank lines. A bootstrap also loses comments and
    blank lines (every byte costs about a millisecond on a 9600-baud console); so does any
    IOS-XE config, whose text is pushed line by line in configuration mode (the ``!``
    separators of the templates are for the reader of the template only)."""
    lines = [line.rstrip() for line in text.splitlines()]
    if kind == KIND_BOOTSTRAP or platform != PLATFORM_JUNOS:
        prefix = _comment_prefix(platform)
        lines = [line for line in lines if line.strip() and not line.lstrip().startswith(prefix)]
    else:
        out: list[str] = []
        for line in lines:
            if not line and (not out or not out[-1]):
                continue
            out.append(line)
        lines = out
        while lines and not lines[-1]:
            lines.pop()
    return "\n".join(lines) + "\n"


def render_config(
    *, context: DeviceContext, kind: str, env: jinja2.Environment | None = None
) -> str:
    """The config text of ``kind`` (bootstrap/full) for one router."""
    env = env if env is not None else cached_environment()
    candidates = template_candidates(platform=context.platform, role=context.role, kind=kind)
    return render_template(env, candidates=candidates, context=context, kind=kind)
