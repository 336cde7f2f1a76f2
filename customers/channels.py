"""First-touch acquisition channel from UTM tags: the grouping the owner compares retention and LTV by."""

from customers.models import Channel

MARKETPLACES = {"ozon", "wildberries", "wb", "yandex_market", "market", "kaspi", "aliexpress", "megamarket"}
SOCIAL = {
    "vk",
    "vkontakte",
    "ok",
    "odnoklassniki",
    "telegram",
    "tg",
    "instagram",
    "facebook",
    "tiktok",
    "youtube",
    "dzen",
}
SEARCH_ENGINES = {"yandex", "google", "bing", "mail.ru", "mail", "rambler"}
PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "cpm", "cpa", "display", "retargeting"}


def classify_channel(source: str = "", medium: str = "", referrer_customer: bool = False) -> str:
    """The Channel for a first touch; a referral code beats any UTM tag because the friend is why they came."""
    if referrer_customer:
        return Channel.REFERRAL
    source = (source or "").strip().lower()
    medium = (medium or "").strip().lower()
    if not source and not medium:
        return Channel.UNKNOWN
    if medium in {"referral", "ref", "invite"}:
        return Channel.REFERRAL
    if source in MARKETPLACES or medium == "marketplace":
        return Channel.MARKETPLACE
    if medium in {"email", "e-mail", "newsletter"}:
        return Channel.EMAIL
    if source in SOCIAL or medium in {"social", "smm"}:
        return Channel.SOCIAL
    if medium in PAID_MEDIUMS:
        return Channel.SEARCH_ADS if source in SEARCH_ENGINES or not source else Channel.SOCIAL
    if medium == "organic" or source in SEARCH_ENGINES:
        return Channel.ORGANIC
    if medium in {"offline", "phone", "call"}:
        return Channel.OFFLINE
    if source in {"direct", "(direct)"} or medium in {"none", "(none)"}:
        return Channel.DIRECT
    return Channel.UNKNOWN
