"""Every write of the finance app (ARCHITECTURE.md rule 2): open items (`open_items`), bank
transactions (`bank`), the dunning sweep (`dunning`); due times and levels (`schedule`)."""

from finance.services.bank import (
    BankReceipt,
    BankTransactionData,
    bank_transaction_match,
    bank_transaction_receive,
)
from finance.services.dunning import SweepReport, dunning_sweep
from finance.services.open_items import (
    OpenItemMissing,
    open_item_dispute,
    open_item_invoice,
    open_item_undispute,
    open_item_write_off,
    open_items_credit,
)
from finance.services.schedule import dunning_levels, payment_terms_days

__all__ = [
    "BankReceipt", "BankTransactionData", "OpenItemMissing", "SweepReport",
    "bank_transaction_match", "bank_transaction_receive", "dunning_levels", "dunning_sweep",
    "open_item_dispute", "open_item_invoice", "open_item_undispute", "open_item_write_off",
    "open_items_credit", "payment_terms_days",
]
