"""Admin of dcim: every model, change-logged, with the same rules as the services (rack
space, status transitions, cable ends, component instantiation) and secrets masked."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from turnup.core.admin import ChangeLoggedAdmin
from turnup.core.changelog import changelog_record
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.errors import ApplicationError
from turnup.dcim import services
from turnup.dcim.models import (
    Cable,
    ConsolePort,
    ConsolePortTemplate,
    ConsoleServerPort,
    ConsoleServerPortTemplate,
    CredentialProfile,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    InterfaceTemplate,
    Manufacturer,
    Platform,
    Rack,
    Site,
)


def editable_fields(model) -> list[str]:
    """Every field a person may edit (the admin narrows it per page)."""
    return [field.name for field in model._meta.fields if field.editable and not field.primary_key]


def _as_form_error(error: ApplicationError) -> ValidationError:
    return ValidationError(error.message)


# -- sites and racks ----------------------------------------------------------------------


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = editable_fields(Site)

    def clean(self):
        data = super().clean()
        initial = self.instance.status if self.instance.pk else None
        status = data.get("status")
        if initial is not None and status and status != initial:
            try:
                services.site_transition_check(
                    site=self.instance, from_status=initial, to_status=status
                )
            except ApplicationError as error:
                self.add_error("status", _as_form_error(error))
        return data


@admin.register(Site)
class SiteAdmin(ChangeLoggedAdmin):
    form = SiteForm
    list_display = ("name", "slug", "status", "region", "time_zone", "credential_profile")
    list_filter = ("status", "region")
    search_fields = ("name", "slug", "facility", "description")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("credential_profile",)


@admin.register(Rack)
class RackAdmin(ChangeLoggedAdmin):
    list_display = ("name", "site", "u_height", "facility_id")
    list_filter = ("site",)
    search_fields = ("name", "facility_id")
    list_select_related = ("site",)


# -- catalog ------------------------------------------------------------------------------


@admin.register(Manufacturer)
class ManufacturerAdmin(ChangeLoggedAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(DeviceRole)
class DeviceRoleAdmin(ChangeLoggedAdmin):
    list_display = ("name", "slug", "color")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Platform)
class PlatformAdmin(ChangeLoggedAdmin):
    list_display = ("name", "slug", "manufacturer")
    search_fields = ("name", "slug")
    list_select_related = ("manufacturer",)


class InterfaceTemplateInline(admin.TabularInline):
    model = InterfaceTemplate
    extra = 0
    fields = ("name", "label", "type", "mgmt_only", "description")


class ConsolePortTemplateInline(admin.TabularInline):
    model = ConsolePortTemplate
    extra = 0
    fields = ("name", "label", "type", "description")


class ConsoleServerPortTemplateInline(admin.TabularInline):
    model = ConsoleServerPortTemplate
    extra = 0
    fields = ("name", "label", "line", "type", "description")


@admin.register(DeviceType)
class DeviceTypeAdmin(ChangeLoggedAdmin):
    list_display = ("model", "manufacturer", "slug", "u_height", "default_platform")
    list_filter = ("manufacturer",)
    search_fields = ("model", "slug", "part_number")
    list_select_related = ("manufacturer", "default_platform")
    inlines = [InterfaceTemplateInline, ConsolePortTemplateInline, ConsoleServerPortTemplateInline]

    def get_readonly_fields(self, request, obj=None):
        mounted = obj is not None and obj.devices.filter(position__isnull=False).exists()
        return ("u_height", "is_full_depth") if mounted else ()


@admin.register(InterfaceTemplate)
class InterfaceTemplateAdmin(ChangeLoggedAdmin):
    list_display = ("name", "device_type", "type", "mgmt_only")
    search_fields = ("name",)
    list_select_related = ("device_type",)


@admin.register(ConsolePortTemplate)
class ConsolePortTemplateAdmin(ChangeLoggedAdmin):
    list_display = ("name", "device_type", "type")
    search_fields = ("name",)
    list_select_related = ("device_type",)


@admin.register(ConsoleServerPortTemplate)
class ConsoleServerPortTemplateAdmin(ChangeLoggedAdmin):
    list_display = ("name", "device_type", "line", "type")
    search_fields = ("name",)
    list_select_related = ("device_type",)


# -- devices and ports --------------------------------------------------------------------


class PortInline(admin.TabularInline):
    extra = 0
    show_change_link = True
    readonly_fields = ("cable", "cable_end")
    can_delete = False  # a port's cable goes with it: delete ports from their own page


class InterfaceInline(PortInline):
    model = Interface
    fields = ("name", "type", "enabled", "mtu", "mgmt_only", "description", "cable", "cable_end")


class ConsolePortInline(PortInline):
    model = ConsolePort
    fields = ("name", "type", "description", "cable", "cable_end")


class ConsoleServerPortInline(PortInline):
    model = ConsoleServerPort
    fields = ("name", "line", "tcp_port", "baud", "access_method", "cable", "cable_end")


class DeviceForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = editable_fields(Device)

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        errors = services.rack_space_errors(devices=[self.instance])
        if errors:
            self.add_error("position", errors[0])


@admin.register(Device)
class DeviceAdmin(ChangeLoggedAdmin):
    form = DeviceForm
    list_display = ("name", "site", "role", "platform", "device_type", "rack", "position", "status")
    list_filter = ("status", "role", "platform", "site")
    search_fields = ("name", "serial", "asset_tag")
    list_select_related = ("site", "role", "platform", "device_type", "rack")
    inlines = [InterfaceInline, ConsolePortInline, ConsoleServerPortInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # a new device gets its ports from its type, like device_create
            token = bind_actor(request.user)
            try:
                components = services.device_components_instantiate(devices=[obj])
                changelog_record(action="create", instances=components)
            finally:
                unbind_actor(token)

    bulk_delete_service = staticmethod(services.device_bulk_delete)


class PortAdmin(ChangeLoggedAdmin):
    readonly_fields = ("cable", "cable_end")
    search_fields = ("name", "device__name")
    list_select_related = ("device", "cable")

    bulk_delete_service = staticmethod(services.port_bulk_delete)


@admin.register(Interface)
class InterfaceAdmin(PortAdmin):
    list_display = ("name", "device", "type", "enabled", "mtu", "mgmt_only", "cable")
    list_filter = ("type", "enabled", "mgmt_only")


@admin.register(ConsolePort)
class ConsolePortAdmin(PortAdmin):
    list_display = ("name", "device", "type", "cable")


@admin.register(ConsoleServerPort)
class ConsoleServerPortAdmin(PortAdmin):
    list_display = ("name", "device", "line", "tcp_port", "baud", "access_method", "cable")
    list_filter = ("access_method", "baud")


# -- cables -------------------------------------------------------------------------------


class CableForm(forms.ModelForm):
    """A new cable picks its two ends: two interfaces, or a console port and a console-server
    port; the ends of an existing cable do not change."""

    a_interface = forms.ModelChoiceField(Interface.objects.all(), required=False)
    b_interface = forms.ModelChoiceField(Interface.objects.all(), required=False)
    console_port = forms.ModelChoiceField(ConsolePort.objects.all(), required=False)
    console_server_port = forms.ModelChoiceField(ConsoleServerPort.objects.all(), required=False)

    class Meta:
        model = Cable
        fields = editable_fields(Cable)

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data
        interfaces = (data.get("a_interface"), data.get("b_interface"))
        consoles = (data.get("console_port"), data.get("console_server_port"))
        if all(interfaces) and not any(consoles):
            data["ends"] = interfaces
        elif all(consoles) and not any(interfaces):
            data["ends"] = consoles
        else:
            raise ValidationError(
                "Pick two interfaces, or a console port and a console-server port."
            )
        return data


@admin.register(Cable)
class CableAdmin(ChangeLoggedAdmin):
    form = CableForm
    list_display = ("__str__", "status", "type", "label", "length", "length_unit")
    list_filter = ("status", "type")
    search_fields = ("label", "description")

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f not in self._end_fields()]
        return fields if obj else [*self._end_fields(), *fields]

    @staticmethod
    def _end_fields():
        return ["a_interface", "b_interface", "console_port", "console_server_port"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token = bind_actor(request.user)
        try:
            a_end, b_end = form.cleaned_data["ends"]
            fields = {
                name: form.cleaned_data[name]
                for name in ("status", "type", "label", "color", "length", "length_unit")
                if name in form.cleaned_data
            }
            fields["description"] = form.cleaned_data.get("description", "")
            created = services.cable_create(a_end=a_end, b_end=b_end, **fields)
            obj.pk = created.pk
            obj._state.adding = False
        finally:
            unbind_actor(token)

    bulk_delete_service = staticmethod(services.cable_bulk_delete)


# -- credentials --------------------------------------------------------------------------


class CredentialProfileForm(forms.ModelForm):
    """Secrets are typed in masked fields, never shown back; blank keeps the stored value."""

    clear_secrets = forms.MultipleChoiceField(
        choices=[(name, name.replace("_", " ")) for name in CredentialProfile.SECRET_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Secrets to erase.",
    )

    class Meta:
        model = CredentialProfile
        fields = editable_fields(CredentialProfile)
        widgets = {
            name: forms.PasswordInput(render_value=False)
            for name in CredentialProfile.SECRET_FIELDS
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CredentialProfile.SECRET_FIELDS:
            field = self.fields[name]
            field.required = False
            field.strip = False
            if self.instance.pk and getattr(self.instance, name):
                field.help_text = "Set. Leave blank to keep it."

    def clean(self):
        data = super().clean()
        clear = set(data.get("clear_secrets") or ())
        for name in CredentialProfile.SECRET_FIELDS:
            if name in clear:
                data[name] = ""
            elif not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


@admin.register(CredentialProfile)
class CredentialProfileAdmin(ChangeLoggedAdmin):
    form = CredentialProfileForm
    list_display = (
        "name",
        "is_default",
        "console_username",
        "local_username",
        "has_local_password",
        "has_junos_root_password",
        "has_enable_secret",
    )
    search_fields = ("name",)

    @admin.display(boolean=True)
    def has_local_password(self, obj) -> bool:
        return bool(obj.local_password)

    @admin.display(boolean=True)
    def has_junos_root_password(self, obj) -> bool:
        return bool(obj.junos_root_password)

    @admin.display(boolean=True)
    def has_enable_secret(self, obj) -> bool:
        return bool(obj.enable_secret)
