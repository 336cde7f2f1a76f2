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


# (channel, sources, mediums): the first rule whose source or medium matches wins, in this order. Paid mediums are
# decided between the two lists, because a paid click is search or social by where it ran.
_Rule = tuple[str, frozenset[str], frozenset[str]]
_BEFORE_PAID: tuple[_Rule, ...] = (
    (Channel.REFERRAL, frozenset(), frozenset({"referral", "ref", "invite"})),
    (Channel.MARKETPLACE, frozenset(MARKETPLACES), frozenset({"marketplace"})),
    (Channel.EMAIL, frozenset(), frozenset({"email", "e-mail", "newsletter"})),
    (Channel.SOCIAL, frozenset(SOCIAL), frozenset({"social", "smm"})),
)
_AFTER_PAID: tuple[_Rule, ...] = (
    (Channel.ORGANIC, frozenset(SEARCH_ENGINES), frozenset({"organic"})),
    (Channel.OFFLINE, frozenset(), frozenset({"offline", "phone", "call"})),
    (Channel.DIRECT, frozenset({"direct", "(direct)"}), frozenset({"none", "(none)"})),
)


def _first_match(rules: tuple[_Rule, ...], source: str, medium: str) -> str | None:
    return next((channel for channel, sources, mediums in rules if source in sources or medium in mediums), None)


def classify_channel(source: str = "", medium: str = "", referrer_customer: bool = False) -> str:
    """The Channel for a first touch; a referral code beats any UTM tag because the friend is why they came."""
    if referrer_customer:
        return Channel.REFERRAL
    source = (source or "").strip().lower()
    medium = (medium or "").strip().lower()
    if not source and not medium:
        return Channel.UNKNOWN
    before = _first_match(_BEFORE_PAID, source, medium)
    if before is not None:
        return before
    if medium in PAID_MEDIUMS:
        return Channel.SEARCH_ADS if source in SEARCH_ENGINES or not source else Channel.SOCIAL
    return _first_match(_AFTER_PAID, source, medium) or Channel.UNKNOWN
