"""Factories for the whole suite: one place that knows how to make a valid row of each model."""

import factory
from django.contrib.auth.models import Group

from shop.models import User
from shop.roles import Role

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Анна"
    last_name = factory.Sequence(lambda n: f"Иванова{n}")
    password = factory.django.Password(TEST_PASSWORD)


def make_user(role: str | None, **kwargs: object) -> User:
    user: User = UserFactory(**kwargs)  # type: ignore[assignment]
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_owner(**kwargs: object) -> User:
    return make_user(Role.OWNER, **kwargs)


def make_manager(**kwargs: object) -> User:
    return make_user(Role.MANAGER, **kwargs)


def make_operator(**kwargs: object) -> User:
    return make_user(Role.OPERATOR, **kwargs)
