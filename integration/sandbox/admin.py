from django.contrib import admin

from integration.sandbox.models import SandboxFaults, SandboxRecord, SandboxStock


@admin.register(SandboxRecord)
class SandboxRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "model", "code", "channel_identifier", "active", "write_date")
    list_filter = ("model", "active")
    search_fields = ("code", "channel_identifier")


@admin.register(SandboxStock)
class SandboxStockAdmin(admin.ModelAdmin):
    list_display = ("product_id", "location_id", "quantity")
    list_filter = ("location_id",)


@admin.register(SandboxFaults)
class SandboxFaultsAdmin(admin.ModelAdmin):
    list_display = (
        "latency_ms",
        "rate_limit_share",
        "server_error_share",
        "commit_timeout_share",
        "tax_rounding",
    )
