"""checks' hook into the site life cycle: a site with error findings cannot move to
approved or turning-up (registered with dcim's transition guards in ``apps.py``)."""

from __future__ import annotations

from turnup.checks.engine import ERROR, site_findings
from turnup.dcim.choices import SiteStatus
from turnup.dcim.models import Site

GUARDED_STATUSES = (SiteStatus.APPROVED, SiteStatus.TURNING_UP)


def preflight_guard(*, site: Site, to_status: str) -> list[str]:
    """The error findings of ``site`` when it is about to be approved or turned up."""
    if to_status not in GUARDED_STATUSES:
        return []
    errors = [f for f in site_findings(site=site) if f.severity == ERROR]
    if not errors:
        return []
    return [
        f"preflight checks found {len(errors)} error(s); fix them first "
        f"(GET /api/sites/{site.pk}/checks/)",
        *(str(item) for item in errors),
    ]
