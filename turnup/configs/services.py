"""Writes of configs: render a site (or one router), lint, and store the configs that
changed as new versions in the default storage (local folder, or S3 when S3_ENDPOINT_URL is
set).

What other apps call:
- ``site_render(*, site, store=True, progress=None, device_ids=None, kinds=KINDS)
  -> SiteRenderResult``
- ``device_configs_for_push(*, device, kinds) -> dict[str, PushableConfig]`` — the turn-up
  engine's entry: the linted, archived text of a router's bootstrap and/or full config
  (refuses a config with lint errors), with the version id to record; one render of the
  router's context whatever the number of kinds.
- ``site_configs_for_push(*, site, device_ids, kinds=KINDS)`` — the same for many routers in
  one render (a run renders its site once when it starts), with why the others have none;
  ``stored_configs_for_push(*, version_ids)`` reads such configs back.
- ``running_config_archive(*, device, text, rendered) -> RunningArchive`` — store the
  running config read back after turn-up and diff it against the full config the run pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max

from turnup.configs.context import KINDS
from turnup.configs.models import ConfigVersion
from turnup.configs.selectors import (
    RenderedConfig,
    config_versions_latest,
    render_and_lint,
    site_render_context,
    template_environment,
)
from turnup.core.context import current_actor
from turnup.core.errors import ApplicationError
from turnup.core.models import ObjectChange
from turnup.dcim.models import Device, Site

STORAGE_PREFIX = "configs"


def config_storage_path(*, site_slug: str, hostname: str, kind: str, sha256: str) -> str:
    """Content-addressed: the same text is stored once."""
    return f"{STORAGE_PREFIX}/{site_slug}/{hostname}/{kind}/{sha256}.txt"


def _store_text(path: str, text: str) -> None:
    if default_storage.exists(path):
        return
    saved = default_storage.save(path, ContentFile(text.encode()))
    if saved != path:  # a concurrent render stored the same content first
        default_storage.delete(saved)


def latest_design_change_id() -> int | None:
    """The newest change-log entry: the design state a render sees (one query)."""
    return ObjectChange.objects.aggregate(last=Max("id"))["last"]


@transaction.atomic
def config_versions_store(
    *,
    rendered: Iterable[RenderedConfig],
    site_slug: str,
    design_change_id: int | None = None,
    restore: bool = False,
) -> list[tuple[ConfigVersion, bool]]:
    """A version for each rendered config: the latest existing one when its text is the
    same (``False``), else a new row and stored file (``True``). Two queries, plus one
    storage write per changed config. ``restore``: an existing version whose stored text is
    gone gets it back (a storage check per config)."""
    rendered = list(rendered)
    device_ids = sorted({r.device_id for r in rendered if r.device_id is not None})
    latest = config_versions_latest(device_ids=device_ids)
    actor = current_actor()
    author = actor.username if actor else "system"
    results: list[tuple[ConfigVersion, bool]] = []
    new: list[ConfigVersion] = []
    for item in rendered:
        if item.device_id is None:
            raise ApplicationError(f"{item.hostname}: only configs of stored devices are versioned")
        sha = item.sha256
        current = latest.get((item.device_id, item.kind))
        if current is not None and current.sha256 == sha:
            if restore:
                _store_text(current.storage_path, item.text)
            results.append((current, False))
            continue
        path = config_storage_path(
            site_slug=site_slug, hostname=item.hostname, kind=item.kind, sha256=sha
        )
        _store_text(path, item.text)
        version = ConfigVersion(
            device_id=item.device_id,
            hostname=item.hostname,
            kind=item.kind,
            sha256=sha,
            size=item.size,
            lines=item.lines,
            author=author,
            design_change_id=design_change_id,
            template=item.template,
            storage_path=path,
            findings=[f.as_dict() for f in item.findings],
        )
        new.append(version)
        results.append((version, True))
    if new:
        ConfigVersion.objects.bulk_create(new)
    return results


@dataclass
class SiteRenderResult:
    """What a site render produced: every config, the versions (new or unchanged), and the
    devices that could not be rendered with the reason."""

    site: Site
    configs: list[RenderedConfig] = field(default_factory=list)
    versions: list[tuple[ConfigVersion, bool]] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(1 for _, created in self.versions if created)

    @property
    def lint_errors(self) -> int:
        return sum(1 for c in self.configs for f in c.findings if f.severity == "error")


def site_render(
    *,
    site: Site,
    store: bool = True,
    progress: Callable[[RenderedConfig], None] | None = None,
    device_ids: list[int] | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> SiteRenderResult:
    """Render, lint and (``store``) version the configs of ``kinds`` (bootstrap and full) of
    every router of ``site`` (or of ``device_ids``). The query count does not grow with the
    number of routers. A device whose design is incomplete is reported in ``problems``; the
    others are rendered."""
    site_context = site_render_context(site=site, device_ids=device_ids)
    env = template_environment()
    result = SiteRenderResult(site=site, problems=dict(site_context.problems))
    for context in site_context.devices:
        for kind in kinds:
            config = render_and_lint(context=context, kind=kind, env=env)
            result.configs.append(config)
            if progress is not None:
                progress(config)
    if store and result.configs:
        result.versions = config_versions_store(
            rendered=result.configs,
            site_slug=site.slug,
            design_change_id=latest_design_change_id(),
        )
    return result


@dataclass(frozen=True)
class PushableConfig:
    """A config the turn-up engine may push: linted clean and archived as ``version_id``."""

    device_id: int
    hostname: str
    platform: str
    kind: str
    text: str
    sha256: str
    size: int
    version_id: int


@dataclass(frozen=True)
class ConfigProblem:
    """Why a router has no pushable config: a design problem or lint errors (findings)."""

    message: str
    findings: tuple[dict, ...] = ()


def site_configs_for_push(
    *,
    site: Site,
    device_ids: list[int],
    kinds: tuple[str, ...] = KINDS,
    restore: bool = False,
) -> tuple[dict[int, dict[str, PushableConfig]], dict[str, ConfigProblem]]:
    """Render ``kinds`` for the routers ``device_ids`` of ``site`` in one pass (the query
    count does not grow with the routers), lint them and archive the clean ones (with
    ``restore``, an unchanged version's lost text is stored again). Returns the pushable
    configs by device id and kind, and why the other routers have none (by name): one
    router's problem does not stop the others."""
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise ApplicationError(
            f"config kinds must be some of {list(KINDS)}, not {list(kinds)}",
            extra={"kind": list(kinds)},
        )
    result = site_render(site=site, store=False, device_ids=device_ids, kinds=kinds)
    problems = {name: ConfigProblem(message) for name, message in result.problems.items()}
    for config in result.configs:
        if not config.ok and config.hostname not in problems:
            problems[config.hostname] = ConfigProblem(
                f"{config.hostname} {config.kind} config has lint errors",
                tuple(f.as_dict() for f in config.findings),
            )
    clean = [c for c in result.configs if c.hostname not in problems]
    versions = config_versions_store(
        rendered=clean,
        site_slug=site.slug,
        design_change_id=latest_design_change_id(),
        restore=restore,
    )
    pushable: dict[int, dict[str, PushableConfig]] = {}
    for config, (version, _) in zip(clean, versions, strict=True):
        pushable.setdefault(config.device_id, {})[config.kind] = PushableConfig(
            device_id=config.device_id,
            hostname=config.hostname,
            platform=config.platform,
            kind=config.kind,
            text=config.text,
            sha256=config.sha256,
            size=config.size,
            version_id=version.pk,
        )
    return pushable, problems


def device_configs_for_push(
    *, device: Device, kinds: tuple[str, ...], restore: bool = False
) -> dict[str, PushableConfig]:
    """Render ``kinds`` (``bootstrap``/``full``) for ``device`` from the current design in
    one pass, lint them, archive them (a new version only if the text changed; ``restore``:
    see ``site_configs_for_push``), and return them by kind. Raises ApplicationError (with
    the findings) when lint finds an error: such a config is never pushed."""
    pushable, problems = site_configs_for_push(
        site=device.site, device_ids=[device.pk], kinds=kinds, restore=restore
    )
    if device.pk in pushable:
        return pushable[device.pk]
    problem = problems.get(device.name) or ConfigProblem(f"{device.name} has no rendered platform")
    raise ApplicationError(
        problem.message, extra={"device": device.name, "findings": list(problem.findings)}
    )


def stored_configs_for_push(*, version_ids: Iterable[int]) -> dict[str, PushableConfig]:
    """Configs archived by an earlier ``site_configs_for_push`` (a run renders its site once
    when it starts), read back by version id: one query and a storage read each. By kind;
    raises NotFoundError when a text is missing from storage."""
    from turnup.configs.selectors import config_version_text

    configs = {}
    versions = ConfigVersion.objects.filter(pk__in=list(version_ids)).select_related(
        "device__platform"
    )
    for version in versions:
        text = config_version_text(version=version)
        configs[version.kind] = PushableConfig(
            device_id=version.device_id,
            hostname=version.hostname,
            platform=version.device.platform.slug if version.device.platform_id else "",
            kind=version.kind,
            text=text,
            sha256=version.sha256,
            size=version.size,
            version_id=version.pk,
        )
    return configs


@dataclass(frozen=True)
class RunningArchive:
    """The archived running config, and its unified diff against the full config pushed
    (``""`` when they are identical)."""

    version: ConfigVersion
    created: bool
    rendered_version_id: int
    diff: str


def running_config_archive(
    *, device: Device, text: str, rendered: PushableConfig
) -> RunningArchive:
    """Store ``text`` (the router's running config, as read back) as a ``running`` version
    — a new one only if it changed — and diff it against ``rendered``, the full config the
    run pushed (its text in hand)."""
    from turnup.configs.selectors import config_texts_diff, config_version_label

    if not text.endswith("\n"):
        text += "\n"
    item = RenderedConfig(
        device_id=device.pk,
        hostname=device.name,
        platform=device.platform.slug if device.platform_id else "",
        kind=ConfigVersion.Kind.RUNNING,
        text=text,
        template="",
        findings=(),
    )
    [(version, created)] = config_versions_store(
        rendered=[item], site_slug=device.site.slug, design_change_id=latest_design_change_id()
    )
    diff = config_texts_diff(
        old=rendered.text,
        new=text,
        old_label=config_version_label(
            rendered.hostname, rendered.kind, rendered.version_id, rendered.sha256
        ),
        new_label=config_version_label(version.hostname, version.kind, version.pk, version.sha256),
    )
    return RunningArchive(
        version=version, created=created, rendered_version_id=rendered.version_id, diff=diff
    )
