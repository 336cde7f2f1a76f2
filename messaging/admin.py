from django.contrib import admin

from messaging.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("kind", "source", "customer", "channel", "purpose", "state", "due_at", "sent_at")
    list_filter = ("state", "channel", "purpose", "kind")
    raw_id_fields = ("customer",)
    readonly_fields = ("claim", "claimed_at", "attempted_at", "attempts")
