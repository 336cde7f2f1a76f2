"""The tracked link in a campaign message: a signed, short address naming the recipient row, so a click is
counted for the right customer and campaign without showing any id."""

from django.urls import reverse

from messaging.links import base_url, id_token, id_token_read

SALT = "loyalty.campaign.click"


def click_token(recipient_id: int) -> str:
    return id_token(recipient_id, salt=SALT)


def click_token_read(token: str) -> int | None:
    return id_token_read(token, salt=SALT)


def click_url(recipient_id: int) -> str:
    return base_url() + reverse("campaign_click", args=[click_token(recipient_id)])
