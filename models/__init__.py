"""SQLModel tables and database access. Importing this package registers every table."""

from models.audit import ExportLog
from models.bimtek import (
    Announcement,
    AnnouncementStatus,
    AttendedVia,
    BimtekFields,
    BimtekRegistration,
    BimtekSession,
    BimtekStatus,
    RegistrationStatus,
)
from models.company import Company, CompanyFields, CompanyStatus
from models.console import ConsoleKey, ConsoleLinkUse, ConsoleSession
from models.conversation import (
    ConversationState,
    DeliveryStatus,
    HandledMessage,
    InboundEvent,
)
from models.ikm import IkmFields, IkmProfile, Product, ProductFields
from models.outbox import OutboxMessage, OutboxState
from models.people import ChannelAccount, Consent, Person
from models.procurement import (
    MatchState,
    Need,
    NeedFields,
    NeedMatch,
    NeedStatus,
    Offer,
    OfferFields,
    OfferQuestion,
    OfferStatus,
    Partnership,
    ProductKeyword,
    VerificationDecision,
)
from models.registry import OptOut, RegistryRecord
from models.registry_import import RegistryImport

__all__ = [
    "Announcement",
    "AnnouncementStatus",
    "AttendedVia",
    "BimtekFields",
    "BimtekRegistration",
    "BimtekSession",
    "BimtekStatus",
    "ChannelAccount",
    "Company",
    "CompanyFields",
    "CompanyStatus",
    "Consent",
    "ConsoleKey",
    "ConsoleLinkUse",
    "ConsoleSession",
    "ConversationState",
    "DeliveryStatus",
    "ExportLog",
    "HandledMessage",
    "IkmFields",
    "IkmProfile",
    "InboundEvent",
    "MatchState",
    "Need",
    "NeedFields",
    "NeedMatch",
    "NeedStatus",
    "Offer",
    "OfferFields",
    "OfferQuestion",
    "OfferStatus",
    "OptOut",
    "OutboxMessage",
    "OutboxState",
    "Partnership",
    "Person",
    "Product",
    "ProductFields",
    "ProductKeyword",
    "RegistrationStatus",
    "RegistryImport",
    "RegistryRecord",
    "VerificationDecision",
]
