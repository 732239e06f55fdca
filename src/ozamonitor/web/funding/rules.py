"""Who may see and change region matrices and funding maps (registered with web.access).

- Region matrices belong to an SWV or a gemeente. Their staff (``swv_staff``,
  ``gemeente_staff``) read, upload and change them; SWV staff also read the
  matrices of the gemeenten lying in their SWV, gemeente staff those of the SWVs
  their gemeente lies in, and school and care-provider staff those of the SWVs
  their school or arrangements lie in (to use them in the advisor).
- A funding map is visible exactly to those who see its arrangement (the
  registry's rule, asked through ``access.visible``), and changed by those who
  may change the arrangement (the SWV's staff).
- The study team reads everything; administrators do everything.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ozamonitor.web import access
from ozamonitor.web.access import Principal
from ozamonitor.web.funding.models import FundingMap, RegionMatrixFile
from ozamonitor.web.registry.models import Arrangement
from ozamonitor.web.registry.rules import partner_orgs

access.register_role("gemeente_staff", _("municipality staff"), ("gemeente",))

OWNER_ROLES = ("swv_staff", "gemeente_staff")


def matrix_owners(p: Principal) -> frozenset[int]:
    """Organisations whose region matrices ``p`` keeps."""
    return p.orgs(*OWNER_ROLES)


def _matrix_q(p: Principal) -> Q:
    swvs = p.orgs("swv_staff")
    partners = partner_orgs(p)
    return (Q(organisation__in=matrix_owners(p))
            | Q(organisation__swvs__in=swvs)                        # a gemeente in my SWV
            | Q(organisation__members__in=p.orgs("gemeente_staff"))  # the SWV of my gemeente
            | Q(organisation__members__in=partners)                 # the SWV of my school
            | Q(organisation__arrangements__partners__organisation__in=partners))


access.register(
    RegionMatrixFile,
    visible=_matrix_q,
    change=lambda p, obj: obj.organisation_id in matrix_owners(p),
    create=lambda p: bool(matrix_owners(p)),
)
access.register(
    FundingMap,
    visible=lambda p: Q(arrangement__in=access.visible(p, Arrangement).values("pk")),
    change=lambda p, obj: access.can_change(p, obj.arrangement),
    create=lambda p: access.can_create(p, Arrangement),
)
