"""Who may share, receive and acknowledge (authority separation is done by scoping).

A transfer is a decision of the authority (necessity, purpose, legal basis): shift lead /
control room and administration take it for every purpose. A field officer may hand over
only a criminal complaint (Strafanzeige) about an incident of the own authority: anybody may
file one (§ 158 StPO), and the officer who recorded the complaint on site is the one who
hands it to the police (research notes §7 item 2: "Strafanzeige (→ Polizei/StA)").
Incoming transfers are read by the control room and the administration; the
data-protection officer reads both directions to check their lawfulness.
"""

import rules

from lagebild.core.models import Role
from lagebild.core.rules import _has_role

can_share = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
can_share_any_purpose = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
can_view_received = _has_role(Role.SHIFT_LEAD, Role.ADMIN, Role.DATA_PROTECTION_OFFICER)
can_acknowledge = _has_role(Role.SHIFT_LEAD, Role.ADMIN)
# Field officers see the transfers they made themselves; the others all of their authority.
can_view_sent = _has_role(Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN, Role.DATA_PROTECTION_OFFICER)
can_view_all_sent = _has_role(Role.SHIFT_LEAD, Role.ADMIN, Role.DATA_PROTECTION_OFFICER)
can_withdraw_any = _has_role(Role.SHIFT_LEAD, Role.ADMIN)

rules.add_perm("sharing.share", can_share)
rules.add_perm("sharing.share_any_purpose", can_share_any_purpose)
rules.add_perm("sharing.view_received", can_view_received)
rules.add_perm("sharing.acknowledge", can_acknowledge)
rules.add_perm("sharing.view_sent", can_view_sent)
rules.add_perm("sharing.view_all_sent", can_view_all_sent)
rules.add_perm("sharing.withdraw_any", can_withdraw_any)
rules.add_perm("sharing.view_transfers", can_view_received | can_view_sent)
