"""Reads of checks: the preflight findings of one site.

- ``site_findings(*, site, rules=None) -> list[Finding]`` (errors first)
- ``site_check_report(*, site) -> dict`` (counts + findings, what the API returns)
"""

from __future__ import annotations

from typing import Any

from turnup.checks.engine import ERROR, INFO, RULES, WARNING, Finding, site_findings
from turnup.dcim.models import Site

__all__ = ["Finding", "rule_list", "site_check_report", "site_findings"]


def rule_list() -> list[dict[str, str]]:
    from turnup.checks import rules as _rules  # noqa: F401 - registers the rules

    return [{"code": code, "title": title} for code, (title, _) in RULES.items()]


def site_check_report(*, site: Site) -> dict[str, Any]:
    findings = site_findings(site=site)
    counts = {severity: 0 for severity in (ERROR, WARNING, INFO)}
    for item in findings:
        counts[item.severity] += 1
    return {
        "site": {"id": site.pk, "name": site.name, "status": site.status},
        "passed": counts[ERROR] == 0,
        "counts": counts,
        "findings": [item.as_dict() for item in findings],
    }
