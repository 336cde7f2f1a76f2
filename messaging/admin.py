from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from messaging.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("kind", "source", "customer", "channel", "purpose", "state", "due_at", "sent_at", "reason")
    list_filter = ("state", "channel", "purpose", "kind")
    raw_id_fields = ("customer",)
    # The stored reason code is shown in the reader's language, not edited.
    exclude = ("error",)
    readonly_fields = ("claim", "claimed_at", "attempted_at", "attempts", "reason")

    @admin.display(description=_("reason"))
    def reason(self, message: Message) -> str:
        return message.reason_text
