"""Links into the Sonderstab pages, for notifications, e-mails and the calendar feed.

The pages are named in ``taskforce/urls.py`` (namespace ``taskforce``). Where a name does not
resolve (pages not mounted, e.g. in a command run without them) the link falls back to the
workspace, and to ``/sonderstab/`` when even that is missing: a message never fails for a link.
Absolute links (e-mail, calendar) use ``LAGEBILD_SITE_URL`` when set, else the request's host.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

FALLBACK_PATH = "/sonderstab/"


def path_to(name: str, *args: object) -> str:
    """The path of the Sonderstab page ``name`` (e.g. ``goal-detail``), or of the workspace."""
    for candidate, arguments in ((name, args), ("workspace", ())):
        try:
            return reverse(f"taskforce:{candidate}", args=arguments)
        except NoReverseMatch:
            continue
    return FALLBACK_PATH


def site_url() -> str:
    """The configured public address of this installation (``https://lagebild.example``), or ""."""
    return str(getattr(settings, "LAGEBILD_SITE_URL", "") or "").rstrip("/")


def absolute(path: str, base_url: str = "") -> str:
    """``path`` with the site's address in front; unchanged when none is known."""
    if path.startswith(("http://", "https://")):
        return path
    base = (site_url() or base_url).rstrip("/")
    return f"{base}{path}" if base else path
