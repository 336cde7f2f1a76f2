"""The one way an app adds to "a customer": list columns, filters and sorts; card panels; timeline entries; its part
of the personal-data export and erasure; and what a merge must move.

``customers`` sits below every app that knows something about a customer and may not import them. So each app
describes what it adds in one :class:`Contribution` and registers it from its ``AppConfig.ready``; the pages and
services that show or change a whole customer (the list here, the card and the privacy requests in ``crm``, the
merge in ``customers.merging``) read the registry and compose what they find, in each part's declared ``position``.
A worked example is in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Expression, F

from customers.contrib.card import TIMELINE_LENGTH, CardPanel, TimelineEntry, TimelineSource
from customers.contrib.listing import ExportColumn, ListColumn, ListExtension, ListFilter, ListSort
from customers.contrib.merging import MergeMover
from customers.contrib.privacy import Eraser, Erasure, ExportPart


@dataclass(frozen=True)
class Contribution:
    """Everything one app adds to a customer. ``app`` is the registering app's label; registering the same app
    again replaces its contribution."""

    app: str
    list: ListExtension | None = None
    card_panels: tuple[CardPanel, ...] = ()
    timeline: tuple[TimelineSource, ...] = ()
    export_parts: tuple[ExportPart, ...] = ()
    erasers: tuple[Eraser, ...] = ()
    merge_movers: tuple[MergeMover, ...] = ()


_CONTRIBUTIONS: dict[str, Contribution] = {}


def contribution_register(contribution: Contribution) -> None:
    """Add (or replace) ``contribution.app``'s contribution. Refuses a merge mover whose position another app's
    mover holds: the movers' order must be fixed, not an accident of which app became ready first."""
    taken = {
        mover.position: (other.app, mover.name)
        for other in _CONTRIBUTIONS.values()
        if other.app != contribution.app
        for mover in other.merge_movers
    }
    for mover in contribution.merge_movers:
        if mover.position in taken:
            raise ImproperlyConfigured(
                f"Merge mover {contribution.app}.{mover.name} takes position {mover.position}, "
                f"held by {taken[mover.position]}"
            )
    _CONTRIBUTIONS[contribution.app] = contribution


def contributions() -> list[Contribution]:
    return list(_CONTRIBUTIONS.values())


def card_panels() -> list[CardPanel]:
    return sorted((p for c in _CONTRIBUTIONS.values() for p in c.card_panels), key=lambda p: p.position)


def timeline_sources() -> list[TimelineSource]:
    return sorted((s for c in _CONTRIBUTIONS.values() for s in c.timeline), key=lambda s: s.position)


def export_parts() -> list[ExportPart]:
    return sorted((p for c in _CONTRIBUTIONS.values() for p in c.export_parts), key=lambda p: p.position)


def erasers() -> list[Eraser]:
    return sorted((e for c in _CONTRIBUTIONS.values() for e in c.erasers), key=lambda e: e.position)


def merge_movers() -> list[MergeMover]:
    return sorted((m for c in _CONTRIBUTIONS.values() for m in c.merge_movers), key=lambda m: m.position)


def list_extensions() -> list[ListExtension]:
    return [c.list for c in _CONTRIBUTIONS.values() if c.list is not None]


def extension_sorts() -> dict[str, ListSort]:
    return {sort.key: sort for extension in list_extensions() for sort in extension.sorts}


def extension_filters() -> dict[str, ListFilter]:
    return {item.name: item for extension in list_extensions() for item in extension.filters}


def extension_annotations() -> dict[str, Expression | F]:
    annotations: dict[str, Expression | F] = {}
    for extension in list_extensions():
        annotations.update(extension.annotations())
    return annotations


__all__ = [
    "TIMELINE_LENGTH",
    "CardPanel",
    "Contribution",
    "Eraser",
    "Erasure",
    "ExportColumn",
    "ExportPart",
    "ListColumn",
    "ListExtension",
    "ListFilter",
    "ListSort",
    "MergeMover",
    "TimelineEntry",
    "TimelineSource",
    "card_panels",
    "contribution_register",
    "contributions",
    "erasers",
    "export_parts",
    "extension_annotations",
    "extension_filters",
    "extension_sorts",
    "list_extensions",
    "merge_movers",
    "timeline_sources",
]
