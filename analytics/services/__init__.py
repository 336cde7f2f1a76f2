"""Writes of the analytics app: the nightly aggregates (``refresh``) and the owner's marketing spend (``spend``)."""

from analytics.services.refresh import aggregates_refresh
from analytics.services.spend import SpendFileError, SpendLine, spend_file_parse, spend_import, spend_save

__all__ = ["SpendFileError", "SpendLine", "aggregates_refresh", "spend_file_parse", "spend_import", "spend_save"]
