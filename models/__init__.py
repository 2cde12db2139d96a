"""SQLModel tables and database access. Importing this package registers every table."""

from models.company import Company, CompanyFields, CompanyStatus
from models.conversation import ConversationState, HandledMessage
from models.ikm import IkmFields, IkmProfile, Product, ProductFields
from models.people import ChannelAccount, Consent, Person

__all__ = [
    "ChannelAccount",
    "Company",
    "CompanyFields",
    "CompanyStatus",
    "Consent",
    "ConversationState",
    "HandledMessage",
    "IkmFields",
    "IkmProfile",
    "Person",
    "Product",
    "ProductFields",
]
