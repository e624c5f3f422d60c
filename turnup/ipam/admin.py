"""Admin of ipam: every model, writes recorded in the change log (ChangeLoggedAdmin).

Prefix saves go through the services so the hierarchy (parent, depth) stays right.
"""

from django.contrib import admin

from turnup.core.admin import ChangeLoggedAdmin
from turnup.core.context import bind_actor, unbind_actor
from turnup.ipam import services
from turnup.ipam.models import ASN, VLAN, VRF, ASNRange, IPAddress, Prefix, VLANGroup


@admin.register(VRF)
class VRFAdmin(ChangeLoggedAdmin):
    list_display = ("name", "rd", "description")
    search_fields = ("name", "rd", "description")


@admin.register(Prefix)
class PrefixAdmin(ChangeLoggedAdmin):
    list_display = ("prefix", "vrf", "site", "name", "status", "role", "is_pool", "depth")
    list_filter = ("status", "role", "is_pool", "family", "vrf")
    search_fields = ("prefix", "name", "description")
    list_select_related = ("vrf", "site")
    raw_id_fields = ("site",)
    readonly_fields = ("family", "prefix_length", "parent", "depth")

    def save_model(self, request, obj, form, change):
        # The services keep parents and depths right (and record the change log).
        token = bind_actor(request.user)
        try:
            if change:
                fields = {name: getattr(obj, name) for name in form.changed_data}
                fresh = Prefix.objects.get(pk=obj.pk)
                services.prefix_update(instance=fresh, **fields)
            else:
                created = services.prefix_create(
                    **{f.name: getattr(obj, f.name) for f in Prefix._meta.fields if f.editable}
                )
                obj.pk = created.pk
                obj._state.adding = False
            obj.refresh_from_db()
        finally:
            unbind_actor(token)

    bulk_delete_service = staticmethod(services.prefix_bulk_delete)


@admin.register(IPAddress)
class IPAddressAdmin(ChangeLoggedAdmin):
    list_display = ("address", "vrf", "status", "role", "device", "assigned_interface")
    list_filter = ("status", "role", "family", "is_primary_mgmt", "vrf")
    search_fields = ("address", "dns_name", "description")
    list_select_related = ("vrf", "device", "assigned_interface")
    raw_id_fields = ("assigned_interface",)
    readonly_fields = ("family", "mask_length", "device")


@admin.register(ASNRange)
class ASNRangeAdmin(ChangeLoggedAdmin):
    list_display = ("name", "start", "end", "description")
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ASN)
class ASNAdmin(ChangeLoggedAdmin):
    list_display = ("asn", "site", "status", "description")
    list_filter = ("status",)
    search_fields = ("asn", "description")
    list_select_related = ("site",)


@admin.register(VLANGroup)
class VLANGroupAdmin(ChangeLoggedAdmin):
    list_display = ("name", "site", "min_vid", "max_vid")
    search_fields = ("name", "description")
    list_select_related = ("site",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(VLAN)
class VLANAdmin(ChangeLoggedAdmin):
    list_display = ("vid", "name", "group", "site", "status")
    list_filter = ("status", "group")
    search_fields = ("name", "description")
    list_select_related = ("group", "site")
