"""OpenAPI schema generation (drf-spectacular) for turnup's viewsets."""

from drf_spectacular.openapi import AutoSchema


class TurnupAutoSchema(AutoSchema):
    """Bulk writes share the list URL with ``create``: name their operations apart so every
    operationId in the schema is unique (``dcim_devices_bulk_update`` …)."""

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        action = getattr(self.view, "action", None) or ""
        if action.startswith("bulk_"):
            base = operation_id.rsplit("_", 1)[0]
            return f"{base}_{action}"
        return operation_id
