"""A customer's personal data on request (152-FZ, GDPR habits): everything Retain holds about one person as a JSON
download, and the erasure of what identifies them while the shop keeps its accounting.

It spans every app, so it is composed at the top, but it holds no app's knowledge: each app registers its part of
the file (``ExportPart``) and what it erases (``Eraser``) in ``customers.contrib`` from its ``AppConfig.ready``. This
package runs them: the download (``export``), the erasure service (``erasure``) and their pages (``views``).
"""

from crm.privacy.erasure import AUDIT_MESSAGE, ErasureResult, customer_erase_personal_data
from crm.privacy.export import EXPORT_FORMAT_VERSION, customer_personal_data, personal_data_json
from crm.privacy.views import (
    CARD_PANELS,
    customer_erase,
    customer_personal_data_download,
)
from customers.privacy import CONSENT_SOURCE_ERASURE

__all__ = [
    "AUDIT_MESSAGE",
    "CARD_PANELS",
    "CONSENT_SOURCE_ERASURE",
    "EXPORT_FORMAT_VERSION",
    "ErasureResult",
    "customer_erase",
    "customer_erase_personal_data",
    "customer_personal_data",
    "customer_personal_data_download",
    "personal_data_json",
]
