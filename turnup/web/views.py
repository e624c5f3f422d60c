"""Pages: thin views over the selectors and services of each app.

Every page requires login. A business-rule failure (``ApplicationError``) is shown on the
page next to what caused it, never as a server error page.
"""

from __future__ import annotations

from collections import Counter

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from turnup.blueprints import selectors as bp_selectors
from turnup.blueprints.design import BlueprintInvalid
from turnup.blueprints.services import (
    blueprint_instantiate,
    blueprint_library_sync,
    blueprint_plan,
)
from turnup.checks import selectors as check_selectors
from turnup.configs.selectors import config_version_text
from turnup.configs.services import site_render
from turnup.core.errors import ApplicationError
from turnup.core.models import ObjectChange
from turnup.dcim.choices import SITE_TRANSITIONS, SiteStatus
from turnup.dcim.models import Interface, Site
from turnup.dcim.services import port_update, site_transition, site_update
from turnup.events import selectors as event_selectors
from turnup.events.models import InboundStatus
from turnup.ipam.models import VRF, Prefix
from turnup.ipam.services import ip_allocate_next, prefix_allocate_next
from turnup.provisioning.drivers.base import (
    CABLE_NOT_SEEN,
    CABLED_AS_DESIGNED,
    CABLED_OTHERWISE,
)
from turnup.provisioning.models import Run, RunStatus
from turnup.provisioning.services import run_cancel, run_retry_failed, run_start
from turnup.web import exports, selectors
from turnup.web.board import board_state
from turnup.web.diff import diff_stats, side_by_side
from turnup.web.elevation import rack_svg
from turnup.web.forms import (
    AllocateForm,
    InterfaceForm,
    SiteCredentialsForm,
    apply_param_errors,
    blueprint_param_form,
)
from turnup.web.topology import topology_svg

SITE_TABS = (
    ("overview", "Overview"),
    ("devices", "Devices"),
    ("racks", "Racks"),
    ("cabling", "Cabling"),
    ("console", "Console"),
    ("addressing", "Addressing"),
    ("checks", "Checks"),
    ("configs", "Configs"),
    ("runs", "Turn-ups"),
    ("changes", "Changes"),
)


def _query(request: HttpRequest, name: str) -> str:
    """A query-string filter as text: stripped, without NUL characters (a database text
    column cannot hold one, so such a filter would match nothing anyway)."""
    return request.GET.get(name, "").replace("\x00", "").strip()


def _choice(request: HttpRequest, name: str, choices) -> str:
    """A query-string filter that must be one of ``choices`` ("" for anything else)."""
    value = request.GET.get(name, "")
    return value if value in choices else ""


def _next_url(request: HttpRequest, value: str | None) -> str:
    """``value`` when it is a path on this site to go back to, else "" — never another
    host (an open redirect), a ``javascript:`` link or text with control characters."""
    if (
        not value
        or not value.startswith("/")
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
        or not url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return ""
    return value


def site_crumbs(site: Site, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [
        ("Sites", reverse("site-list")),
        (site.name, reverse("site-detail", args=[site.slug]) if tail else None),
        *tail,
    ]


def site_page(request: HttpRequest, site: Site, tab: str, template: str, **context) -> HttpResponse:
    """Render one tab of the site page with the shared header and tabs."""
    label = dict(SITE_TABS)[tab]
    base = {
        "section": "sites",
        "site": site,
        "tab": tab,
        "tabs": SITE_TABS,
        "breadcrumbs": site_crumbs(site, *([(label, None)] if tab != "overview" else [])),
        "transitions": SITE_TRANSITIONS.get(site.status, ()),
        "lifecycle": _lifecycle(site.status),
        "status_labels": dict(SiteStatus.choices),
    }
    base.update(context)
    return render(request, template, base)


LIFECYCLE = ("planned", "designed", "approved", "turning-up", "live")


def _lifecycle(status: str) -> list[tuple[str, str]]:
    """The site's place in planned → designed → approved → turning-up → live/failed."""
    labels = dict(SiteStatus.choices)
    if status == "failed":
        current = LIFECYCLE.index("turning-up")
    else:  # a status outside the lifecycle (a row written by hand) marks no step
        current = LIFECYCLE.index(status) if status in LIFECYCLE else -1
    out = []
    for i, step in enumerate(LIFECYCLE):
        state = "done" if i < current else ("current" if i == current else "")
        if step == "live" and status == "failed":
            out.append(("failed", labels["failed"], "current failed"))
            continue
        out.append((step, labels[step], state))
    return out


@login_required
def home(request: HttpRequest) -> HttpResponse:
    sites = selectors.site_rows()
    by_status = {value: 0 for value, _ in SiteStatus.choices}
    for site in sites:
        by_status[site.status] = by_status.get(site.status, 0) + 1
    return render(
        request,
        "web/home.html",
        {
            "section": "home",
            "sites": sites.order_by("-updated")[:12],
            "by_status": [(v, label, by_status[v]) for v, label in SiteStatus.choices],
            "total": sum(by_status.values()),
            "runs": selectors.run_rows()[:8],
        },
    )


# -- sites ---------------------------------------------------------------------------------


@login_required
def site_list(request: HttpRequest) -> HttpResponse:
    status = _choice(request, "status", SiteStatus.values)
    region = _query(request, "region")
    q = _query(request, "q")
    sites = selectors.site_rows(status=status, region=region, q=q)
    return render(
        request,
        "web/site_list.html",
        {
            "section": "sites",
            "breadcrumbs": [("Sites", None)],
            "sites": sites,
            "statuses": SiteStatus.choices,
            "regions": sorted(set(selectors.site_regions())),
            "filters": {"status": status, "region": region, "q": q},
        },
    )


@login_required
def site_detail(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    nodes, links = selectors.site_topology(site=site)
    report = check_selectors.site_check_report(site=site)
    return site_page(
        request,
        site,
        "overview",
        "web/site_overview.html",
        counts=selectors.site_counts(site=site),
        topology=topology_svg(nodes, links) if nodes else "",
        node_count=len(nodes),
        link_count=sum(1 for link in links if link.kind == "data"),
        console_count=sum(1 for link in links if link.kind == "console"),
        cabling=_cabling_counts(links),
        findings=report["counts"],
        top_findings=[
            _finding_link(site, f) for f in report["findings"] if f["severity"] != "info"
        ][:6],
        checks_passed=report["passed"],
    )


def _cabling_counts(links) -> dict[str, int] | None:
    """How many of the site's cables the last turn-up saw over LLDP as designed, cabled
    otherwise, or not at all; None before any router was verified."""
    seen = Counter(link.lldp for link in links if link.lldp)
    if not seen:
        return None
    return {
        "ok": seen[CABLED_AS_DESIGNED],
        "wrong": seen[CABLED_OTHERWISE],
        "unseen": seen[CABLE_NOT_SEEN],
    }


@login_required
def site_topology_svg(request: HttpRequest, slug: str) -> HttpResponse:
    """The topology picture alone, as a file (for a ticket or a slide)."""
    site = get_object_or_404(Site, slug=slug)
    nodes, links = selectors.site_topology(site=site)
    response = HttpResponse(topology_svg(nodes, links), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{site.slug}-topology.svg"'
    return response


@login_required
@require_POST
def site_status(request: HttpRequest, slug: str) -> HttpResponse:
    """Move a site to another status (approve, back to design, …) through the dcim service."""
    site = get_object_or_404(Site, slug=slug)
    to_status = request.POST.get("to_status", "")
    try:
        site_transition(site=site, to_status=to_status, manual=True)
    except ApplicationError as error:
        problems = error.extra.get("problems") or []
        messages.error(request, error.message)
        for problem in problems[1:6]:
            messages.error(request, problem)
    else:
        messages.success(request, f"{site.name} is now {site.get_status_display().lower()}.")
    back = _next_url(request, request.POST.get("next"))
    return HttpResponseRedirect(back or reverse("site-detail", args=[site.slug]))


@login_required
def site_devices(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    return site_page(
        request,
        site,
        "devices",
        "web/site_devices.html",
        rows=selectors.site_device_rows(site=site),
    )


@login_required
def site_racks(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    racks, unracked = selectors.site_rack_pictures(site=site)
    pictures = [(rack, rack_svg(data)) for rack, data in racks]
    return site_page(
        request, site, "racks", "web/site_racks.html", racks=pictures, unracked=unracked
    )


@login_required
def site_cabling(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    rows = selectors.site_cable_rows(site=site)
    return site_page(
        request,
        site,
        "cabling",
        "web/site_cabling.html",
        rows=rows,
        data_count=sum(1 for r in rows if r.kind == "data"),
        console_count=sum(1 for r in rows if r.kind == "console"),
    )


@login_required
def site_console(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    rows = selectors.console_rows(site=site)
    return site_page(
        request,
        site,
        "console",
        "web/site_console.html",
        rows=rows,
        missing=sum(1 for _, path in rows if path is None),
    )


@login_required
def device_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    detail = selectors.device_detail(site=site, device_id=pk)
    if detail is None:
        raise Http404("No such device at this site")
    device = detail["device"]
    return render(
        request,
        "web/device_detail.html",
        {
            "section": "sites",
            "site": site,
            "breadcrumbs": site_crumbs(
                site,
                ("Devices", reverse("site-devices", args=[site.slug])),
                (device.name, None),
            ),
            **detail,
        },
    )


# -- exports -------------------------------------------------------------------------------


@login_required
def site_cabling_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    rows = [row.as_list() for row in selectors.site_cable_rows(site=site)]
    if fmt == "csv":
        body = exports.cabling_csv(selectors.CABLE_HEADERS, rows)
        content_type = "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = exports.cabling_xlsx(
            f"Cabling schedule — {site.name}", selectors.CABLE_HEADERS, rows
        )
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404("Unknown format")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{site.slug}-cabling.{fmt}"'
    return response


def _error_text(error: Exception) -> list[str]:
    """Readable lines from an ApplicationError or a Django ValidationError."""
    if isinstance(error, ApplicationError):
        lines = list(error.extra.get("errors") or []) or [error.message]
        for field, reasons in (error.extra.get("fields") or {}).items():
            lines += [f"{field}: {reason}" for reason in reasons]
        return lines
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return [f"{k}: {m}" for k, ms in error.message_dict.items() for m in ms]
        return list(error.messages)
    return [str(error)]


def _field_errors(form: forms.Form, error: Exception) -> None:
    """Put a service's per-field errors on the form's fields (the rest on the form)."""
    fields: dict[str, list[str]] = {}
    if isinstance(error, ApplicationError):
        fields = error.extra.get("fields") or {}
    elif isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        fields = error.message_dict
    placed = False
    for name, reasons in fields.items():
        target = name if name in form.fields else None
        for reason in reasons:
            form.add_error(target, reason)
            placed = True
    if not placed:
        for line in _error_text(error):
            form.add_error(None, line)


# -- blueprints: the wizard ----------------------------------------------------------------


@login_required
def blueprint_list(request: HttpRequest) -> HttpResponse:
    blueprint_library_sync()
    items = []
    for blueprint in bp_selectors.blueprint_list().annotate(site_count=Count("instances")):
        document = blueprint.document or {}
        items.append(
            {
                "blueprint": blueprint,
                "slots": document.get("slots", []),
                "parameters": document.get("parameters", {}),
                "sites": blueprint.site_count,
            }
        )
    return render(
        request,
        "web/blueprint_list.html",
        {"section": "blueprints", "breadcrumbs": [("Blueprints", None)], "items": items},
    )


@login_required
def blueprint_wizard(request: HttpRequest, name: str) -> HttpResponse:
    """Step 2 (parameters) and 3 (dry-run plan) of the wizard; "Create site" applies it."""
    try:
        blueprint = bp_selectors.blueprint_get(name=name)
    except ApplicationError as error:
        raise Http404(error.message) from None
    parameters = (blueprint.document or {}).get("parameters", {})
    action = request.POST.get("action", "")
    form = blueprint_param_form(parameters, data=request.POST if request.method == "POST" else None)
    plan = None
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        params = {k: v for k, v in form.cleaned_data.items() if v is not None and v != ""}
        try:
            if action == "create":
                plan = blueprint_instantiate(blueprint=blueprint, params=params, apply=True)
                site = Site.objects.get(name=plan.site)
                counts = plan.counts
                messages.success(
                    request,
                    f"Site {site.name} created from {blueprint.name} v{blueprint.version}: "
                    f"{counts['create']} objects created, {counts['change']} changed.",
                )
                return redirect("site-detail", slug=site.slug)
            plan = blueprint_plan(blueprint=blueprint, params=params)
        except BlueprintInvalid as error:
            problems = apply_param_errors(form, error.errors)
        except (ApplicationError, ValidationError) as error:
            problems = _error_text(error)
    step = "plan" if plan is not None else "parameters"
    return render(
        request,
        "web/blueprint_wizard.html",
        {
            "section": "blueprints",
            "breadcrumbs": [
                ("Blueprints", reverse("blueprint-list")),
                (f"{blueprint.name} v{blueprint.version}", None),
            ],
            "blueprint": blueprint,
            "document": blueprint.document or {},
            "form": form,
            "plan": plan,
            "plan_rows": _plan_rows(plan) if plan else [],
            "plan_summary": _plan_summary(plan) if plan else [],
            "problems": problems,
            "step": step,
        },
    )


def _plan_summary(plan) -> list[dict]:
    """Counts per kind of object and action, for the head of the plan."""
    by_kind: dict[str, dict[str, int]] = {}
    for item in plan.items:
        counts = by_kind.setdefault(item.kind, {"create": 0, "change": 0, "leave": 0})
        counts[item.action] = counts.get(item.action, 0) + 1
    return [{"kind": kind, **counts} for kind, counts in sorted(by_kind.items())]


def _plan_rows(plan) -> list[dict]:
    """Plan items grouped by kind, creates first, for the plan table."""
    order = {"create": 0, "change": 1, "leave": 2}
    items = sorted(plan.items, key=lambda i: (i.kind, order.get(i.action, 3), i.name))
    return [
        {
            "action": item.action,
            "kind": item.kind,
            "name": item.name,
            "detail": item.detail,
            "changes": item.changes,
        }
        for item in items
    ]


# -- checks, addressing, edits -------------------------------------------------------------


@login_required
def site_checks(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    report = check_selectors.site_check_report(site=site)
    profile_form = SiteCredentialsForm(initial={"credential_profile": site.credential_profile_id})
    return site_page(
        request,
        site,
        "checks",
        "web/site_checks.html",
        report=report,
        findings=[_finding_link(site, f) for f in report["findings"]],
        profile_form=profile_form,
    )


def _finding_link(site: Site, finding: dict) -> dict:
    """A finding with the page where it can be fixed."""
    rule, kind, pk = finding.get("rule"), finding.get("object_type", ""), finding.get("object_id")
    url = ""
    if rule == "credentials":
        url = reverse("site-checks", args=[site.slug]) + "#credentials"
    elif rule in ("console-path", "console-line-shared") or kind in (
        "dcim.consoleport",
        "dcim.consoleserverport",
    ):
        url = reverse("site-console", args=[site.slug])
    elif kind == "dcim.interface" and pk:
        url = reverse("site-addressing", args=[site.slug]) + f"#if-{pk}"
    elif kind.startswith(("ipam.", "routing.")):
        url = reverse("site-addressing", args=[site.slug])
    elif kind == "dcim.device" and pk:
        url = reverse("device-detail", args=[site.slug, pk])
    return {**finding, "url": url}


@login_required
@require_POST
def site_credentials(request: HttpRequest, slug: str) -> HttpResponse:
    """Assign the site's credential profile (the fix of the "credentials" finding)."""
    site = get_object_or_404(Site, slug=slug)
    form = SiteCredentialsForm(request.POST)
    if form.is_valid():
        try:
            site_update(instance=site, credential_profile=form.cleaned_data["credential_profile"])
        except (ApplicationError, ValidationError) as error:
            for line in _error_text(error):
                messages.error(request, line)
        else:
            messages.success(request, "Credential profile saved; checks ran again.")
    else:
        for errors in form.errors.values():
            for line in errors:
                messages.error(request, line)
    return redirect("site-checks", slug=site.slug)


@login_required
def site_addressing(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    return site_page(
        request,
        site,
        "addressing",
        "web/site_addressing.html",
        groups=selectors.site_addressing(site=site),
    )


@login_required
def interface_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit an interface's MTU, description and enabled flag (the dcim port service)."""
    site = get_object_or_404(Site, slug=slug)
    interface = get_object_or_404(
        Interface.objects.select_related("device"), pk=pk, device__site=site
    )
    form = InterfaceForm(request.POST or None, instance=interface)
    if request.method == "POST" and form.is_valid():
        try:
            # the form has written its values into ``interface``: the service gets the row
            # as stored, so the change log has its state before the edit
            stored = Interface.objects.select_related("device").get(pk=interface.pk)
            port_update(instance=stored, **form.changed_fields())
        except (ApplicationError, ValidationError) as error:
            _field_errors(form, error)
        else:
            messages.success(request, f"{interface.device.name} {interface.name} saved.")
            return HttpResponseRedirect(
                _next_url(request, request.POST.get("next"))
                or reverse("device-detail", args=[slug, interface.device_id])
            )
    return render(
        request,
        "web/interface_edit.html",
        {
            "section": "sites",
            "site": site,
            "interface": interface,
            "form": form,
            "next": _next_url(request, request.GET.get("next") or request.POST.get("next")),
            "breadcrumbs": site_crumbs(
                site,
                (interface.device.name, reverse("device-detail", args=[slug, interface.device_id])),
                (interface.name, None),
            ),
        },
    )


# -- configs -------------------------------------------------------------------------------


@login_required
def site_configs(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    return site_page(
        request,
        site,
        "configs",
        "web/site_configs.html",
        rows=selectors.site_config_rows(site=site),
    )


@login_required
@require_POST
def site_configs_render(request: HttpRequest, slug: str) -> HttpResponse:
    """Render, lint and version every router's configs (the configs service)."""
    site = get_object_or_404(Site, slug=slug)
    try:
        result = site_render(site=site, store=True)
    except (ApplicationError, ValidationError) as error:
        for line in _error_text(error):
            messages.error(request, line)
    else:
        new = sum(1 for _, created in result.versions if created)
        messages.success(
            request,
            f"Rendered {len(result.configs)} configs: {new} new version{'s' if new != 1 else ''}"
            f", {result.lint_errors} lint error{'s' if result.lint_errors != 1 else ''}.",
        )
        for device, problem in sorted(result.problems.items()):
            messages.error(request, f"{device}: {problem}")
    return redirect("site-configs", slug=site.slug)


@login_required
def config_versions(request: HttpRequest, slug: str, pk: int, kind: str) -> HttpResponse:
    """The version history of one device's config, one version's text, or a diff of two."""
    site = get_object_or_404(Site, slug=slug)
    device = get_object_or_404(site.devices.all(), pk=pk)
    versions = selectors.device_config_versions(device=device, kind=kind)
    if not versions:
        raise Http404("No rendered version of this config yet")
    by_id = {v.pk: v for v in versions}

    def pick(name: str, default):
        try:
            return by_id[int(request.GET.get(name, ""))]
        except (KeyError, ValueError):
            return default

    new = pick("b", versions[0])
    old = pick("a", versions[1] if len(versions) > 1 else None)
    context = {
        "section": "sites",
        "site": site,
        "device": device,
        "kind": kind,
        "versions": versions,
        "new": new,
        "old": old,
        "breadcrumbs": site_crumbs(
            site,
            ("Configs", reverse("site-configs", args=[site.slug])),
            (f"{device.name} {kind}", None),
        ),
    }
    try:
        context["new_text"] = config_version_text(version=new)
        if old is not None and old.pk != new.pk:
            rows = side_by_side(config_version_text(version=old), context["new_text"])
            context["diff_rows"] = rows
            context["diff_stats"] = diff_stats(rows)
    except ApplicationError as error:
        context["error"] = error.message
    return render(request, "web/config_versions.html", context)


@login_required
def site_configs_zip(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest bootstrap and full config of every router, as one zip."""
    site = get_object_or_404(Site, slug=slug)
    files = []
    for row in selectors.site_config_rows(site=site):
        for kind, version in row["versions"].items():
            if version is None:
                continue
            try:
                text = config_version_text(version=version)
            except ApplicationError:
                continue
            files.append((f"{site.slug}/{row['device'].name}.{kind}.cfg", text))
    if not files:
        messages.error(request, "Nothing to download: render the configs first.")
        return redirect("site-configs", slug=site.slug)
    response = HttpResponse(exports.configs_zip(files), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{site.slug}-configs.zip"'
    return response


# -- turn-ups ------------------------------------------------------------------------------


@login_required
def site_runs(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    report = check_selectors.site_check_report(site=site)
    runs = selectors.site_runs(site=site)
    active = next((r for r in runs if not r.is_finished), None)
    blocked = ""
    if not report["passed"]:
        blocked = f"{report['counts']['error']} preflight error(s): fix them on the Checks tab."
    elif active is not None:
        blocked = f"Run #{active.pk} is still {active.status}."
    elif site.status not in (SiteStatus.APPROVED, SiteStatus.FAILED):
        blocked = f"The site is {site.get_status_display().lower()}: approve it first."
    return site_page(
        request,
        site,
        "runs",
        "web/site_runs.html",
        runs=runs,
        active=active,
        blocked=blocked,
        report=report,
    )


@login_required
@require_POST
def run_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a turn-up (the provisioning service refuses when the checks fail)."""
    site = get_object_or_404(Site, slug=slug)
    try:
        run = run_start(
            site=site,
            overwrite=request.POST.get("overwrite") == "on",
            requested_by=request.user,
        )
    except (ApplicationError, ValidationError) as error:
        for line in _error_text(error):
            messages.error(request, line)
        for problem in (getattr(error, "extra", None) or {}).get("problems", [])[1:6]:
            messages.error(request, problem)
        return redirect("site-runs", slug=site.slug)
    return redirect("run-board", slug=site.slug, pk=run.pk)


def _run_of(slug: str, pk: int) -> Run:
    return get_object_or_404(
        Run.objects.select_related("site", "requested_by"), pk=pk, site__slug=slug
    )


@login_required
def run_board_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    run = _run_of(slug, pk)
    site = run.site
    state = board_state(selectors.run_board(run=run), now=timezone.now())
    return render(
        request,
        "web/run_board.html",
        {
            "section": "sites",
            "site": site,
            "state": state,
            "breadcrumbs": site_crumbs(
                site,
                ("Turn-ups", reverse("site-runs", args=[site.slug])),
                (f"#{run.pk}", None),
            ),
        },
    )


def run_state(request: HttpRequest, slug: str, pk: int) -> JsonResponse:
    """The board's state as JSON; the page polls it every second. It answers in JSON even
    when it cannot (session ended: 401, no such run: 404), so the board can say why it
    stopped instead of polling a login page."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"message": "Your session has ended: log in again to follow this turn-up."},
            status=401,
        )
    try:
        run = _run_of(slug, pk)
    except Http404:
        return JsonResponse({"message": f"No turn-up #{pk} at site {slug}."}, status=404)
    response = JsonResponse(board_state(selectors.run_board(run=run), now=timezone.now()))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def run_cancel_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    run = _run_of(slug, pk)
    try:
        run_cancel(run=run)
    except (ApplicationError, ValidationError) as error:
        for line in _error_text(error):
            messages.error(request, line)
    else:
        messages.success(
            request, f"Run #{run.pk}: cancel requested; steps in progress finish first."
        )
    return redirect("run-board", slug=slug, pk=run.pk)


@login_required
@require_POST
def run_retry_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    run = _run_of(slug, pk)
    try:
        run_retry_failed(run=run)
    except (ApplicationError, ValidationError) as error:
        for line in _error_text(error):
            messages.error(request, line)
    else:
        messages.success(request, f"Run #{run.pk}: retrying the failed routers.")
    return redirect("run-board", slug=slug, pk=run.pk)


# -- ipam ----------------------------------------------------------------------------------


@login_required
def prefix_list(request: HttpRequest) -> HttpResponse:
    filters = {key: _query(request, key) for key in ("vrf", "site", "q")}
    rows = selectors.prefix_tree_rows(**filters)
    pools = [row for row in rows if row["prefix"].is_pool]
    return render(
        request,
        "web/prefix_list.html",
        {
            "section": "ipam",
            "breadcrumbs": [("IPAM", None)],
            "rows": rows,
            "pools": pools,
            "filters": filters,
            "vrfs": ["global", *VRF.objects.order_by("name").values_list("name", flat=True)],
        },
    )


@login_required
def prefix_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A prefix, its children and addresses, and next-free allocation from the page."""
    prefix = get_object_or_404(Prefix.objects.select_related("vrf", "site", "parent"), pk=pk)
    form = AllocateForm(request.POST or None, target=prefix)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == "prefix":
                made = prefix_allocate_next(
                    pool=prefix,
                    prefix_length=data["prefix_length"],
                    count=data["count"],
                    description=data["description"],
                )
            else:
                made = ip_allocate_next(
                    prefix=prefix, count=data["count"], description=data["description"]
                )
        except (ApplicationError, ValidationError) as error:
            items = error.extra.get("items") if isinstance(error, ApplicationError) else None
            if items:
                for reasons in items.values():
                    for field, lines in reasons.items():
                        for line in lines:
                            form.add_error(field if field in form.fields else None, line)
            else:
                _field_errors(form, error)
        else:
            shown = ", ".join(str(obj) for obj in made[:8]) + (" …" if len(made) > 8 else "")
            messages.success(request, f"Allocated {len(made)} from {prefix}: {shown}")
            return redirect("prefix-detail", pk=prefix.pk)
    crumbs = [("IPAM", reverse("prefix-list"))]
    if prefix.parent_id:
        crumbs.append((prefix.parent.prefix, reverse("prefix-detail", args=[prefix.parent_id])))
    crumbs.append((prefix.prefix, None))
    return render(
        request,
        "web/prefix_detail.html",
        {
            "section": "ipam",
            "breadcrumbs": crumbs,
            "prefix": prefix,
            "form": form,
            **selectors.prefix_detail(prefix=prefix),
        },
    )


# -- all turn-ups -------------------------------------------------------------------------


EVENTS_SHOWN = 100


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    """What other systems told turnup (and what it did), and what turnup tells them."""
    status = request.GET.get("status", "")
    if status not in InboundStatus.values:
        status = ""
    return render(
        request,
        "web/event_list.html",
        {
            "section": "events",
            "breadcrumbs": [("Events", None)],
            "inbound": list(event_selectors.inbound_list(status=status or None)[:EVENTS_SHOWN]),
            "outbox": list(event_selectors.outbox_list()[:EVENTS_SHOWN]),
            "pending": event_selectors.outbox_pending_count(),
            "broker": ", ".join(settings.KAFKA_BOOTSTRAP_SERVERS),
            "statuses": InboundStatus.choices,
            "status": status,
            "shown": EVENTS_SHOWN,
        },
    )


def _changes(request: HttpRequest, site: Site | None = None) -> dict:
    """The change-log rows to show and the filters they were chosen by (action, kind of
    object, text in the object's name, the user's or a request id; on a site's tab, one of
    its devices by name)."""
    kinds = selectors.change_kinds()
    action = _choice(request, "action", ObjectChange.Action.values)
    kind = _choice(request, "kind", [value for value, _label in kinds])
    q = _query(request, "q")
    device = _query(request, "device") if site is not None else ""
    return {
        "changes": selectors.change_rows(site=site, device=device, action=action, kind=kind, q=q),
        "device": device,
        "actions": ObjectChange.Action.choices,
        "kinds": kinds,
        "action": action,
        "kind": kind,
        "q": q,
        "shown": selectors.CHANGES_SHOWN,
    }


@login_required
def change_list(request: HttpRequest) -> HttpResponse:
    """Who changed what in the design, when: the newest change-log rows of every site."""
    return render(
        request,
        "web/change_list.html",
        {"section": "changes", "breadcrumbs": [("Changes", None)], **_changes(request)},
    )


@login_required
def site_changes(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(Site, slug=slug)
    return site_page(request, site, "changes", "web/site_changes.html", **_changes(request, site))


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    status = _choice(request, "status", RunStatus.values)
    return render(
        request,
        "web/run_list.html",
        {
            "section": "runs",
            "breadcrumbs": [("Turn-ups", None)],
            "runs": selectors.run_rows(status=status),
            "statuses": RunStatus.choices,
            "status": status,
        },
    )
