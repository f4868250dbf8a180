"""Analytics permissions: the shared figures are open to every signed-in member of either partner."""

from __future__ import annotations

import rules

from lagebild.core.rules import is_admin, is_analyst

rules.add_perm("analytics.view", rules.is_authenticated)
rules.add_perm("analytics.export", rules.is_authenticated)
# Indicator definitions change what the task force steers by: analysts and administrators only.
rules.add_perm("analytics.configure", is_analyst | is_admin)
