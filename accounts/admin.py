from django.contrib import admin

from accounts.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
