"""Money: Decimal only, quantised to kopecks/tiyn/cents, formatted the way the shop's customers read it."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
NBSP = "\u00a0"
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2

CURRENCY_SYMBOLS = {"RUB": "₽", "KZT": "₸", "USD": "$", "EUR": "€"}


class MoneyError(ValueError):
    """An amount that is not a valid sum of money; the message says why."""


def to_money(value: object) -> Decimal:
    """Parse an amount (``Decimal``, ``int``, ``"1 234,50"``) into a Decimal with two places; floats are refused
    because their binary rounding is exactly the error money must not have."""
    if isinstance(value, float):
        raise MoneyError("Amounts must be given as strings or decimals, not floats.")
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation as error:
            raise MoneyError(f"“{value}” is not an amount of money.") from error
    if not amount.is_finite():
        raise MoneyError(f"“{value}” is not an amount of money.")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | None, currency: str = "RUB") -> str:
    """``48200.5`` → ``48 200.50 ₽``; whole sums drop their zero kopecks."""
    if amount is None:
        return "—"
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    return text.replace(",", NBSP) + NBSP + symbol
