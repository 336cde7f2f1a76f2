"""Refusals of loyalty's services, each with a stable code for the API and a sentence for a person."""

from typing import Any


class LoyaltyError(Exception):
    """A refusal. ``code`` is stable (API clients branch on it); ``message`` says what happened and names the code,
    coupon or balance involved; ``field`` is the input it concerns; ``status`` the HTTP status the API answers."""

    status = 422

    def __init__(self, code: str, message: Any, *, field: str = "", status: int | None = None) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.field = field
        if status is not None:
            self.status = status


class CodeError(LoyaltyError):
    """A code presented at checkout that cannot be used: unknown, expired, used, over its limit, self-referral."""


class BalanceError(LoyaltyError):
    """More credit asked for than the customer has: spent meanwhile by another request, or expired."""

    status = 409
