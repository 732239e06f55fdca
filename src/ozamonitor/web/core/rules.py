"""Access rules of the core's models (see ozamonitor.web.access)."""

from django.db.models import Q

from ozamonitor.web import access
from ozamonitor.web.core.models import Membership, Organisation

# Organisations are not secret: every logged-in user sees the list (names, codes).
access.register(Organisation, visible=lambda p: Q())
# Memberships: one's own only.
access.register(Membership, visible=lambda p: Q(user_id=p.user_id), study_team_reads=False)
