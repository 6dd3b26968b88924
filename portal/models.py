"""Import every model module so the metadata is complete (migrations, tests)."""

from portal.account.models import Disclosure, Inquiry
from portal.admin.models import Staff, StaffPasswordHistory, StaffPendingLogin, StaffSession
from portal.audit.models import AccessChain, AccessRecord, AccessReview, RoleChange, SecurityEvent
from portal.auth.models import (
    CardUsedPair,
    OtpCredential,
    PendingLogin,
    RecoveryCode,
    SecurityCard,
    UserSession,
)
from portal.billing.models import Invoice, InvoiceItem, Payment, PaymentMethod
from portal.customers.models import (
    CorrectionNotice,
    CorrectionRequest,
    Customer,
    LoginId,
    ServiceLine,
)
from portal.policy.models import Notice, PolicyVersion, PrivacyOfficer
from portal.retention.models import PurgeRun, RetainedRecord
from portal.withdrawal.models import RightsRequest, WithdrawalRequest

__all__ = [
    "AccessChain",
    "AccessRecord",
    "AccessReview",
    "CardUsedPair",
    "CorrectionNotice",
    "CorrectionRequest",
    "Customer",
    "Disclosure",
    "Inquiry",
    "Invoice",
    "InvoiceItem",
    "LoginId",
    "Notice",
    "OtpCredential",
    "Payment",
    "PaymentMethod",
    "PendingLogin",
    "PolicyVersion",
    "PrivacyOfficer",
    "PurgeRun",
    "RecoveryCode",
    "RetainedRecord",
    "RightsRequest",
    "RoleChange",
    "SecurityCard",
    "SecurityEvent",
    "ServiceLine",
    "Staff",
    "StaffPasswordHistory",
    "StaffPendingLogin",
    "StaffSession",
    "UserSession",
    "WithdrawalRequest",
]
