"""The first-touch channel from UTM tags: each rule, and the order in which they win."""

import pytest

from customers.channels import classify_channel
from customers.models import Channel


@pytest.mark.parametrize(
    ("source", "medium", "channel"),
    [
        ("", "", Channel.UNKNOWN),
        ("friend", "Referral", Channel.REFERRAL),
        ("ozon", "cpc", Channel.MARKETPLACE),
        ("", "marketplace", Channel.MARKETPLACE),
        ("vk", "email", Channel.EMAIL),
        ("VK ", "", Channel.SOCIAL),
        ("", "smm", Channel.SOCIAL),
        ("yandex", "cpc", Channel.SEARCH_ADS),
        ("", "ppc", Channel.SEARCH_ADS),
        ("partner-site", "cpm", Channel.SOCIAL),
        ("google", "", Channel.ORGANIC),
        ("blog", "organic", Channel.ORGANIC),
        ("", "phone", Channel.OFFLINE),
        ("(direct)", "", Channel.DIRECT),
        ("", "(none)", Channel.DIRECT),
        ("blog", "banner", Channel.UNKNOWN),
    ],
)
def test_utm_tags_name_the_channel(source: str, medium: str, channel: str) -> None:
    assert classify_channel(source, medium) == channel


def test_a_friends_code_beats_any_tag() -> None:
    assert classify_channel("yandex", "cpc", referrer_customer=True) == Channel.REFERRAL
