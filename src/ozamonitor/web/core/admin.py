"""Administration pages (/admin/) for accounts, organisations and memberships."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ozamonitor.web.access import ROLES
from ozamonitor.web.core.models import Membership, Organisation


class MembershipForm(forms.ModelForm):
    """A membership with the role chosen from the registered roles."""

    role = forms.ChoiceField(choices=())

    class Meta:
        model = Membership
        fields = ["user", "organisation", "role"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.code, str(r.label)) for r in ROLES.values()]


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    filter_horizontal = ("swvs",)
    raw_id_fields = ("parent",)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    form = MembershipForm
    list_display = ("user", "role", "organisation")
    list_filter = ("role",)
    search_fields = ("user__username", "organisation__code", "organisation__name")
    raw_id_fields = ("organisation",)
