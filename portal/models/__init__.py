"""The domain's tables. Import from here."""

from .api_clients import ApiClient, ApiToken
from .archive import ArchiveTransfer
from .audit import AuditEvent
from .claims import ClaimCode
from .copies import CertifiedCopy, CopyFile, CopyNumberCounter, CopyNumberReservation
from .corrections import CorrectionRequest
from .data_exports import DataExport
from .files import DOCUMENT, SOURCE_IMAGE, ResultFile, StoredFile
from .held import HeldUpload
from .imports import ImportBatch, ImportRow
from .national import NationalIdentity
from .outbox import OutboxMessage
from .plan import InventoryCount
from .procedures import Procedure
from .results import Result, ResultStatusChange
from .search import IndexQueueEntry
from .sessions import LoginThrottle, UserSession
from .settings import Setting
from .shares import CopyShare, ShareUse
from .slips import HandoverSlip
from .units import Unit
from .users import RecoveryCode, User

__all__ = [
    "DOCUMENT", "SOURCE_IMAGE", "ApiClient", "ApiToken", "ArchiveTransfer", "AuditEvent", "CertifiedCopy", "ClaimCode",
    "CopyFile", "CopyNumberCounter", "CorrectionRequest", "CopyShare",
    "CopyNumberReservation", "HandoverSlip", "HeldUpload", "ImportBatch", "ImportRow", "IndexQueueEntry",
    "InventoryCount",
    "LoginThrottle", "NationalIdentity", "OutboxMessage",
    "Procedure", "RecoveryCode", "Result", "ResultFile", "ResultStatusChange", "Setting", "ShareUse", "StoredFile",
    "Unit", "User", "UserSession",
    "DataExport",
]
