from django.contrib import admin

from integration.models import InboundEvent, PosSource, PostingAttempt, PosTransaction, SecurityEvent


@admin.register(PosSource)
class PosSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "platform", "timezone", "active")
    # Secrets are write-only: they can be set here but are never displayed back.
    exclude = PosSource.SECRET_FIELDS
    readonly_fields = ("poll_cursor", "last_polled_at")


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "channel", "topic", "status", "received_at", "delivery_count")
    list_filter = ("status", "channel", "source")
    search_fields = ("dedupe_key", "entity_ref")
    readonly_fields = [f.name for f in InboundEvent._meta.fields]


@admin.register(PosTransaction)
class PosTransactionAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "pos_id", "kind", "state", "business_date", "total")
    list_filter = ("state", "kind", "source")
    search_fields = ("pos_id", "pos_number")
    raw_id_fields = ("original", "inbound_event")


admin.site.register(PostingAttempt)
admin.site.register(SecurityEvent)
