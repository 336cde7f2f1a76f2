"""A customer's personal data on request (152-FZ, GDPR habits): everything Retain holds about one person as a JSON
download, and the erasure of what identifies them while the shop keeps its accounting.

It spans every app (customers, orders, and later scores, feedback and loyalty), so it lives at the top. Two
registries keep it open to the apps that come later:

- ``EXPORT_CONTRIBUTORS`` (``crm.privacy.export``): functions ``customer → (key, data)``, each one part of the file;
- ``ERASERS`` (``crm.privacy.erasure``): functions that blank or delete one app's personal data of the customers
  being erased.
"""

from crm.privacy.erasure import (
    AUDIT_MESSAGE,
    CONSENT_SOURCE_ERASURE,
    ERASERS,
    Erasure,
    ErasureResult,
    customer_erase_personal_data,
)
from crm.privacy.export import EXPORT_CONTRIBUTORS, EXPORT_FORMAT_VERSION, customer_personal_data, personal_data_json
from crm.privacy.views import (
    customer_erase,
    customer_personal_data_download,
    erasure_notice_section,
    personal_data_section,
)

__all__ = [
    "AUDIT_MESSAGE",
    "CONSENT_SOURCE_ERASURE",
    "ERASERS",
    "EXPORT_CONTRIBUTORS",
    "EXPORT_FORMAT_VERSION",
    "Erasure",
    "ErasureResult",
    "customer_erase",
    "customer_erase_personal_data",
    "customer_personal_data",
    "customer_personal_data_download",
    "erasure_notice_section",
    "personal_data_json",
    "personal_data_section",
]
