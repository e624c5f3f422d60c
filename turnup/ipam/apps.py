from django.apps import AppConfig


class IpamConfig(AppConfig):
    name = "turnup.ipam"
    label = "ipam"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A console server without a console_host is reached at its primary management
        # address (dcim asks registered resolvers; it does not import ipam).
        from turnup.dcim.selectors import console_host_resolver_register
        from turnup.ipam.selectors import ip_address_primary_mgmt_hosts

        console_host_resolver_register(ip_address_primary_mgmt_hosts)
