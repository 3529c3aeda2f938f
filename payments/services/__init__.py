"""Every write to payments (ARCHITECTURE.md rule 2): recording at intake and the one change
service (`core`), PSP events (`psp_events`), captures on shipment and handover (`captures`),
payment at the till on collection (`store`), refunds and voids for goods not collected
(`reversals`), refunds for returned goods (`refunds`) and store credit (`store_credit`)."""

from payments.services.captures import (
    PSP_CAPTURE,
    capture_key,
    payment_capture_execute,
    payment_capture_retry,
    payment_captures_plan,
)
from payments.services.core import (
    PaymentData,
    payment_change,
    payment_lock,
    payment_payload,
    payment_record,
)
from payments.services.psp_events import PspEventData, PspEventReceipt, psp_event_receive
from payments.services.refunds import (
    PSP_REFUND,
    RefundRequest,
    refund_execute,
    refund_method_check,
    refund_payload,
    refund_retry,
    refunds_issue,
)
from payments.services.reversals import GiveBackFailed, payment_give_back, reversal_key
from payments.services.store import payment_collect_in_store
from payments.services.store_credit import store_credit_get

__all__ = [
    "PSP_CAPTURE",
    "PSP_REFUND",
    "GiveBackFailed",
    "PaymentData",
    "PspEventData",
    "PspEventReceipt",
    "RefundRequest",
    "capture_key",
    "payment_capture_execute",
    "payment_capture_retry",
    "payment_captures_plan",
    "payment_change",
    "payment_collect_in_store",
    "payment_give_back",
    "payment_lock",
    "payment_payload",
    "payment_record",
    "psp_event_receive",
    "refund_execute",
    "refund_method_check",
    "refund_payload",
    "refund_retry",
    "refunds_issue",
    "reversal_key",
    "store_credit_get",
]
