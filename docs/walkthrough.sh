#!/usr/bin/env bash
# A walk through the API with curl, against a running service (`make demo`):
#
#     bash docs/walkthrough.sh [BASE_URL]
#
# It plays every party in turn: the webshop checks availability, holds a cart and places an
# order; the warehouse accepts, picks and ships it and the carrier delivers it; a
# click-and-collect order is picked at the Berlin store and handed over with the code the
# customer shows; a customer walks into the store before their parcel left and takes the goods
# with them instead; the delivered order is brought back to the store and refunded; a second order
# is cancelled; a back-office system subscribes to webhooks.
# Every id, order number and code is taken from the answer before, never assumed, so the script
# runs again and again against the same demo. It prints one short line per step and stops with
# a non-zero exit status on the first answer it did not expect (tests/docs/test_walkthrough.py
# runs it against a live server).
#
# Tokens come from the environment or from var/demo.env (what `make demo` writes; another file
# with DEMO_ENV_FILE): DEMO_WEBSHOP_TOKEN, DEMO_WMS_TOKEN, DEMO_POS_TOKEN (confined to the
# Berlin store ST-BER), DEMO_STAFF_TOKEN. The base URL is the first argument, else DEMO_URL,
# else http://127.0.0.1:8000. Needs curl and python3 (to pick values out of the JSON).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="${DEMO_ENV_FILE:-$ROOT/var/demo.env}"

# Values already in the environment win over the file.
if [[ -f "$ENV_FILE" ]]; then
    while IFS='=' read -r key value; do
        [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
        if [[ -z "${!key:-}" ]]; then
            export "$key=$value"
        fi
    done < "$ENV_FILE"
fi

BASE="${1:-${DEMO_URL:-http://127.0.0.1:8000}}"
BASE="${BASE%/}"
for name in DEMO_WEBSHOP_TOKEN DEMO_WMS_TOKEN DEMO_POS_TOKEN DEMO_STAFF_TOKEN; do
    if [[ -z "${!name:-}" ]]; then
        echo "$name is not set: run \`make demo\` (it writes $ENV_FILE) or export it." >&2
        exit 2
    fi
done
SHOP="$DEMO_WEBSHOP_TOKEN" WMS="$DEMO_WMS_TOKEN" POS="$DEMO_POS_TOKEN" STAFF="$DEMO_STAFF_TOKEN"
STORE="${WALKTHROUGH_STORE:-ST-BER}"  # the store the demo's POS token is confined to
HOOK_URL="${WALKTHROUGH_WEBHOOK_URL:-https://example.org/hooks/oms}"
RUN="$(date +%s)-$$"  # makes idempotency keys and references unique per run

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# call METHOD PATH TOKEN EXPECTED_STATUS [JSON_BODY] [HEADER...]
# Prints the answer's body; any other status than expected ends the walk with the answer.
# The answer's headers stay in $WORK/headers for the caller.
call() {
    local method="$1" path="$2" token="$3" expected="$4" body="${5:-}"
    shift 4
    [[ $# -gt 0 ]] && shift
    local args=(-sS -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}'
                -H "Authorization: Bearer $token")
    if [[ -n "$body" ]]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$body")
    fi
    local header
    for header in "$@"; do
        args+=(-H "$header")
    done
    local status
    status="$(curl "${args[@]}" "$BASE$path")" || {
        echo "FAILED: $method $path: no answer from $BASE" >&2
        exit 1
    }
    if [[ "$status" != "$expected" ]]; then
        echo "FAILED: $method $path answered $status, expected $expected:" >&2
        cat "$WORK/body" >&2
        echo >&2
        exit 1
    fi
    cat "$WORK/body"
}

# pick EXPRESSION [NAME=VALUE...]: evaluates a Python expression over the JSON on stdin (`d`,
# and each NAME as a string), prints the result (lists and dicts as JSON). Fails when the
# expression does (a missing key, an empty list).
pick() {
    python3 -c '
import json, sys
names = dict(arg.split("=", 1) for arg in sys.argv[2:])
value = eval(sys.argv[1], {"d": json.load(sys.stdin), **names})
print(json.dumps(value) if isinstance(value, (list, dict)) else value)
' "$@"
}

header() {  # header NAME: a header of the last answer
    tr -d '\r' < "$WORK/headers" | awk -v name="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' \
        'tolower($1) == name {print $2}' | tail -n 1
}

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

ADDRESS='{"name": "Kim Weber", "line1": "Unter den Linden 1", "postal_code": "10117",
          "city": "Berlin", "country": "DE", "lat": 52.517, "lon": 13.389}'

# --------------------------------------------------------------------------------------------
step "The service is up"
call GET /healthz "$SHOP" 200 >/dev/null
say "GET /healthz: 200 at $BASE"

# --------------------------------------------------------------------------------------------
step "Availability: where can a customer in Berlin get these products?"
SKUS="$(python3 -c 'print(",".join(f"DEMO-{n:04d}" for n in range(1, 51)))')"
AVAIL="$(call GET "/api/v1/availability?skus=$SKUS&near=52.52,13.40&radius_km=50" "$SHOP" 200)"
# A product the warehouses can ship twice over (one order ships, one is cancelled), and
# another one the store has on its shelf for click-and-collect.
SKU="$(pick 'next((s["sku"] for s in d["skus"] if s["ship_available"] >= 2), "")' <<<"$AVAIL")"
PICKUP_SKU="$(pick 'next((s["sku"] for s in d["skus"] if s["sku"] != sku and any(
    l["location"] == store and l["pickup"] and l["available"] >= 1 for l in s["locations"])), "")' \
    sku="$SKU" store="$STORE" <<<"$AVAIL")"
if [[ -z "$SKU" || -z "$PICKUP_SKU" ]]; then
    echo "FAILED: none of DEMO-0001..DEMO-0050 is in stock to ship and at $STORE" >&2
    exit 1
fi
say "$SKU: $(pick '[s["ship_available"] for s in d["skus"] if s["sku"] == sku][0]' \
    sku="$SKU" <<<"$AVAIL") units can ship"
say "$PICKUP_SKU: $(pick '[l["available"] for s in d["skus"] if s["sku"] == sku
    for l in s["locations"] if l["location"] == store][0]' sku="$PICKUP_SKU" store="$STORE" \
    <<<"$AVAIL") on the shelf at $STORE, ready for click-and-collect"

WEB_PRICE='[p["amount"] for p in d["prices"] if p["channel"] == "web"][0]'
PRODUCT="$(call GET "/api/v1/products/$SKU" "$SHOP" 200)"
PRICE="$(pick "$WEB_PRICE" <<<"$PRODUCT")"
say "$SKU is \"$(pick 'd["name"]' <<<"$PRODUCT")\", $PRICE EUR in the webshop"
PICKUP_PRICE="$(call GET "/api/v1/products/$PICKUP_SKU" "$SHOP" 200 | pick "$WEB_PRICE")"

# --------------------------------------------------------------------------------------------
step "The webshop holds a cart for 15 minutes"
HOLD_ANSWER="$(call POST /api/v1/reservations "$SHOP" 201 '{
    "reference": "cart-'"$RUN"'", "lines": [{"sku": "'"$SKU"'", "quantity": 1}],
    "delivery": {"method": "ship"}, "ttl_seconds": 900}')"
HOLD="$(pick 'd["id"]' <<<"$HOLD_ANSWER")"
say "hold $HOLD: 1 × $SKU at $(pick 'd["lines"][0]["location"]' <<<"$HOLD_ANSWER") until \
$(pick 'd["expires_at"][11:16]' <<<"$HOLD_ANSWER")"

# --------------------------------------------------------------------------------------------
step "Checkout: an order that consumes the hold (safe to retry: Idempotency-Key)"
ORDER_BODY='{
    "customer": {"email": "kim.weber@example.de", "name": "Kim Weber"}, "currency": "EUR",
    "language": "en",
    "lines": [{"sku": "'"$SKU"'", "quantity": 1, "unit_price": "'"$PRICE"'", "tax_rate": "19"}],
    "delivery": {"method": "ship", "address": '"$ADDRESS"'},
    "payment": {"method": "card", "status": "authorized", "amount": "'"$PRICE"'",
                "psp_reference": "walk-'"$RUN"'"},
    "reservation_id": "'"$HOLD"'"}'
ORDER_ANSWER="$(call POST /api/v1/orders "$SHOP" 201 "$ORDER_BODY" "Idempotency-Key: checkout-$RUN")"
ORDER="$(pick 'd["number"]' <<<"$ORDER_ANSWER")"
FO="$(pick 'd["fulfillments"][0]["id"]' <<<"$ORDER_ANSWER")"
say "order $ORDER: $(pick 'd["status"]' <<<"$ORDER_ANSWER"), total $(pick 'd["total"]' \
    <<<"$ORDER_ANSWER") EUR, fulfilment $FO from $(pick 'd["fulfillments"][0]["location"]' \
    <<<"$ORDER_ANSWER")"
REPLAY="$(call POST /api/v1/orders "$SHOP" 201 "$ORDER_BODY" "Idempotency-Key: checkout-$RUN")"
say "the same request again (a retry) answers order $(pick 'd["number"]' <<<"$REPLAY")," \
    "Idempotent-Replayed: $(header Idempotent-Replayed)"
if [[ "$(pick 'd["number"]' <<<"$REPLAY")" != "$ORDER" ]]; then
    echo "FAILED: the retry created another order" >&2
    exit 1
fi

# --------------------------------------------------------------------------------------------
step "Reading the order and its audit trail"
READ="$(call GET "/api/v1/orders/$ORDER" "$SHOP" 200)"
say "order $ORDER: $(pick 'd["status"]' <<<"$READ"); payment $(pick \
    'd["payments"][0]["method"] + " " + d["payments"][0]["status"]' <<<"$READ")"
EVENTS="$(call GET "/api/v1/orders/$ORDER/events" "$SHOP" 200)"
say "events: $(pick '", ".join(e["type"] for e in d["results"])' <<<"$EVENTS")"

# --------------------------------------------------------------------------------------------
step "The warehouse (demo-wms) accepts, picks and ships it; the carrier delivers"
FO_ANSWER="$(call GET "/api/v1/fulfillments/$FO" "$WMS" 200)"
say "fulfilment $FO at $(pick 'd["location"]' <<<"$FO_ANSWER"): $(pick 'd["status"]' \
    <<<"$FO_ANSWER")"
FO_ANSWER="$(call POST "/api/v1/fulfillments/$FO/accept" "$WMS" 200)"
say "accept → $(pick 'd["status"]' <<<"$FO_ANSWER")"
FO_ANSWER="$(call POST "/api/v1/fulfillments/$FO/pick" "$WMS" 200 \
    '{"lines": [{"sku": "'"$SKU"'", "picked": 1}]}')"
say "pick 1 × $SKU → $(pick 'd["status"]' <<<"$FO_ANSWER")"
TRACKING="JJD$(date +%s)$$"
FO_ANSWER="$(call POST "/api/v1/fulfillments/$FO/ship" "$WMS" 200 \
    '{"carrier": "dhl", "tracking_number": "'"$TRACKING"'"}')"
say "ship with DHL $TRACKING → $(pick 'd["status"]' <<<"$FO_ANSWER")"
for status in in_transit delivered; do
    FO_ANSWER="$(call POST "/api/v1/fulfillments/$FO/tracking-events" "$WMS" 200 \
        '{"status": "'"$status"'", "at": "'"$(now)"'"}')"
    say "tracking: $status → $(pick 'd["status"]' <<<"$FO_ANSWER")"
done
READ="$(call GET "/api/v1/orders/$ORDER" "$SHOP" 200)"
say "order $ORDER: $(pick 'd["status"]' <<<"$READ"); payment $(pick \
    'd["payments"][0]["status"] + ", captured " + d["payments"][0]["captured_amount"]' \
    <<<"$READ") EUR"

# --------------------------------------------------------------------------------------------
step "Click-and-collect at $STORE: picked at the store, handed over with the customer's code"
PICKUP_ANSWER="$(call POST /api/v1/orders "$SHOP" 201 '{
    "customer": {"email": "lea.fischer@example.de", "name": "Lea Fischer"}, "currency": "EUR",
    "language": "en",
    "lines": [{"sku": "'"$PICKUP_SKU"'", "quantity": 1, "unit_price": "'"$PICKUP_PRICE"'",
               "tax_rate": "19"}],
    "delivery": {"method": "pickup", "location": "'"$STORE"'"},
    "payment": {"method": "pay_in_store", "status": "pending", "amount": "'"$PICKUP_PRICE"'"}}' \
    "Idempotency-Key: pickup-$RUN")"
PICKUP_ORDER="$(pick 'd["number"]' <<<"$PICKUP_ANSWER")"
PICKUP_FO="$(pick 'd["fulfillments"][0]["id"]' <<<"$PICKUP_ANSWER")"
say "order $PICKUP_ORDER: $(pick 'd["status"]' <<<"$PICKUP_ANSWER"), fulfilment $PICKUP_FO" \
    "of kind $(pick 'd["fulfillments"][0]["kind"]' <<<"$PICKUP_ANSWER") at $STORE"
TILL="$(call POST "/api/v1/fulfillments/$PICKUP_FO/pick" "$POS" 200 \
    '{"lines": [{"sku": "'"$PICKUP_SKU"'", "picked": 1}]}')"
say "the store's till (demo-pos) picks 1 × $PICKUP_SKU → $(pick 'd["status"]' <<<"$TILL")"
READ="$(call GET "/api/v1/orders/$PICKUP_ORDER" "$SHOP" 200)"
CODE="$(pick 'd["fulfillments"][0]["pickup_code"]' <<<"$READ")"
say "the webshop shows the customer code $CODE (until" \
    "$(pick 'd["fulfillments"][0]["pickup_deadline"][:10]' <<<"$READ"))"
FOUND="$(call GET "/api/v1/fulfillments?status=ready_for_pickup&pickup_code=$CODE" "$POS" 200)"
if [[ "$(pick '[f["id"] for f in d["results"]]' <<<"$FOUND")" != "[$PICKUP_FO]" ]]; then
    echo "FAILED: the code did not find pickup $PICKUP_FO" >&2
    exit 1
fi
say "at the counter the till finds pickup $PICKUP_FO by that code"
WRONG="$(call POST "/api/v1/fulfillments/$PICKUP_FO/handover" "$POS" 422 \
    '{"pickup_code": "WRONG1"}')"
say "a wrong code: 422 $(pick 'd["errors"][0]["code"]' <<<"$WRONG")," \
    "$(pick 'd["errors"][0].get("attempts_left")' <<<"$WRONG") attempts left"
TILL="$(call POST "/api/v1/fulfillments/$PICKUP_FO/handover" "$POS" 200 \
    '{"pickup_code": "'"$CODE"'"}')"
say "handover with $CODE → $(pick 'd["status"]' <<<"$TILL")"
READ="$(call GET "/api/v1/orders/$PICKUP_ORDER" "$SHOP" 200)"
say "order $PICKUP_ORDER: $(pick 'd["status"]' <<<"$READ"); paid at the till:" \
    "$(pick 'd["payments"][0]["status"]' <<<"$READ")"

# --------------------------------------------------------------------------------------------
step "Pickup on a store visit: the customer walks into $STORE while the parcel has not left"
# A product the store has on its shelf and somewhere else ships too (a warehouse comes first);
# a customer of this run only
# (the same customer at the same store within 30 minutes would be the same visit).
VISIT_SKU="$(pick 'next((s["sku"] for s in d["skus"] if s["sku"] not in (a, b)
    for l in s["locations"] if l["location"] == store and l["pickup"]
    and 1 <= l["available"] < s["ship_available"]), "")' \
    a="$SKU" b="$PICKUP_SKU" store="$STORE" <<<"$AVAIL")"
if [[ -z "$VISIT_SKU" ]]; then
    echo "FAILED: no product is both in a warehouse and on the shelf at $STORE" >&2
    exit 1
fi
VISIT_PRICE="$(call GET "/api/v1/products/$VISIT_SKU" "$SHOP" 200 | pick "$WEB_PRICE")"
VISITOR="visit-$RUN@example.de"
VISIT_ORDER_ANSWER="$(call POST /api/v1/orders "$SHOP" 201 '{
    "customer": {"email": "'"$VISITOR"'", "name": "Jonas Becker"}, "currency": "EUR",
    "language": "en",
    "lines": [{"sku": "'"$VISIT_SKU"'", "quantity": 1, "unit_price": "'"$VISIT_PRICE"'",
               "tax_rate": "19"}],
    "delivery": {"method": "ship", "address": '"$ADDRESS"'},
    "payment": {"method": "invoice", "status": "pending", "amount": "'"$VISIT_PRICE"'"}}' \
    "Idempotency-Key: visit-order-$RUN")"
VISIT_ORDER="$(pick 'd["number"]' <<<"$VISIT_ORDER_ANSWER")"
say "order $VISIT_ORDER: 1 × $VISIT_SKU, a parcel from" \
    "$(pick 'd["fulfillments"][0]["location"]' <<<"$VISIT_ORDER_ANSWER")"
CUSTOMER_ID="$(call GET "/api/v1/customers?email=$VISITOR" "$SHOP" 200 | pick 'd["results"][0]["id"]')"
call PUT "/api/v1/customers/$CUSTOMER_ID/consents" "$SHOP" 200 '{"consents": [
    {"purpose": "in_store_offers", "granted": true, "source": "webshop",
     "at": "'"$(now)"'"}]}' >/dev/null
say "the customer consented to offers in the store (webshop account settings)"
VISIT="$(call POST /api/v1/store-visits "$POS" 201 '{"location": "'"$STORE"'",
    "customer": {"email": "'"$VISITOR"'"}, "source": "pos"}')"
OFFER="$(pick 'd["offers"][0]["id"]' <<<"$VISIT")"
say "logged in at the till: visit $(pick 'd["id"]' <<<"$VISIT"), offer $OFFER to take" \
    "$(pick 'd["offers"][0]["lines"][0]["quantity"]' <<<"$VISIT") × $VISIT_SKU now, until" \
    "$(pick 'd["offers"][0]["expires_at"][11:16]' <<<"$VISIT") (store time)"
ACCEPTED="$(call POST "/api/v1/pickup-offers/$OFFER/accept" "$POS" 200)"
VISIT_FO="$(pick 'd["pickup"]' <<<"$ACCEPTED")"
say "accepted → pickup $VISIT_FO at $STORE; stop at the warehouse:" \
    "$(pick 'd["shipment_stop"]' <<<"$ACCEPTED") (the demo warehouse polls: it reads the" \
    "parcel as cancelled)"
AGAIN="$(call POST "/api/v1/pickup-offers/$OFFER/accept" "$POS" 409)"
say "accepting again: 409 $(pick 'd["errors"][0]["code"]' <<<"$AGAIN")"
TILL="$(call POST "/api/v1/fulfillments/$VISIT_FO/pick" "$POS" 200 \
    '{"lines": [{"sku": "'"$VISIT_SKU"'", "picked": 1}]}')"
READ="$(call GET "/api/v1/orders/$VISIT_ORDER" "$SHOP" 200)"
VISIT_CODE="$(pick '[f["pickup_code"] for f in d["fulfillments"] if f["id"] == int(fo)][0]' \
    fo="$VISIT_FO" <<<"$READ")"
TILL="$(call POST "/api/v1/fulfillments/$VISIT_FO/handover" "$POS" 200 \
    '{"pickup_code": "'"$VISIT_CODE"'"}')"
say "picked, shown code $VISIT_CODE in the app, handed over → $(pick 'd["status"]' <<<"$TILL")"
READ="$(call GET "/api/v1/orders/$VISIT_ORDER" "$SHOP" 200)"
say "order $VISIT_ORDER: $(pick 'd["status"]' <<<"$READ"); fulfilments:" \
    "$(pick '", ".join(f["kind"] + " " + f["status"] for f in d["fulfillments"])' <<<"$READ")"

# --------------------------------------------------------------------------------------------
step "Return in store: the customer brings the delivered order back to $STORE"
RETURN_ANSWER="$(call POST /api/v1/returns "$POS" 201 '{
    "order": "'"$ORDER"'",
    "lines": [{"sku": "'"$SKU"'", "quantity": 1, "reason": "too_small",
               "condition": "resellable"}],
    "refund": {"method": "original"}}' "Idempotency-Key: return-$RUN")"
RETURN_ID="$(pick 'd["id"]' <<<"$RETURN_ANSWER")"
say "return $(pick 'd["number"]' <<<"$RETURN_ANSWER") of order $ORDER at" \
    "$(pick 'd["location"]' <<<"$RETURN_ANSWER"): $(pick 'd["status"]' <<<"$RETURN_ANSWER")," \
    "refund estimated $(pick 'd["refund"]["amount"]' <<<"$RETURN_ANSWER") EUR to the card"
RETURN_ANSWER="$(call POST "/api/v1/returns/$RETURN_ID/receive" "$POS" 200 \
    '{"lines": [{"sku": "'"$SKU"'", "quantity": 1, "disposition": "restock"}]}')"
say "received and back on the shelf → $(pick 'd["status"]' <<<"$RETURN_ANSWER"); refund" \
    "$(pick 'd["refund"]["amount"]' <<<"$RETURN_ANSWER") EUR through the PSP:" \
    "$(pick 'd["refund"]["status"]' <<<"$RETURN_ANSWER")"
RETURN_ANSWER="$(call GET "/api/v1/returns/$RETURN_ID" "$POS" 200)"
say "once the PSP said yes (a worker task, seconds): refund" \
    "$(pick 'd["refund"]["status"]' <<<"$RETURN_ANSWER"), return" \
    "$(pick 'd["status"]' <<<"$RETURN_ANSWER")"
READ="$(call GET "/api/v1/orders/$ORDER" "$SHOP" 200)"
say "order $ORDER: $(pick 'd["status"]' <<<"$READ"), $(pick 'd["lines"][0]["returned"]' \
    <<<"$READ") unit returned; payment refunded" \
    "$(pick 'd["payments"][0]["refunded_amount"]' <<<"$READ") EUR"
AGAIN="$(call POST /api/v1/returns "$POS" 422 '{
    "order": "'"$ORDER"'",
    "lines": [{"sku": "'"$SKU"'", "quantity": 1, "reason": "too_small",
               "condition": "resellable"}],
    "refund": {"method": "cash"}}')"
say "returning it a second time: 422 $(pick 'd["errors"][0]["code"]' <<<"$AGAIN")"

# --------------------------------------------------------------------------------------------
step "A second order, cancelled before it ships"
SECOND="$(call POST /api/v1/orders "$SHOP" 201 '{
    "customer": {"email": "kim.weber@example.de"}, "currency": "EUR",
    "lines": [{"sku": "'"$SKU"'", "quantity": 1, "unit_price": "'"$PRICE"'", "tax_rate": "19"}],
    "delivery": {"method": "ship", "address": '"$ADDRESS"'},
    "payment": {"method": "invoice", "status": "pending", "amount": "'"$PRICE"'"}}' \
    "Idempotency-Key: second-$RUN")"
SECOND_ORDER="$(pick 'd["number"]' <<<"$SECOND")"
say "order $SECOND_ORDER: $(pick 'd["status"]' <<<"$SECOND")"
CANCELLED="$(call POST "/api/v1/orders/$SECOND_ORDER/cancel" "$SHOP" 200 \
    '{"reason": "customer changed their mind"}')"
say "cancel → $(pick 'd["status"]' <<<"$CANCELLED"); $(pick 'd["lines"][0]["cancelled"]' \
    <<<"$CANCELLED") unit(s) back on sale"
AGAIN="$(call POST "/api/v1/orders/$ORDER/cancel" "$SHOP" 409 '{"reason": "too late"}')"
say "cancelling the delivered order $ORDER: 409 $(pick 'd["errors"][0]["code"]' <<<"$AGAIN")"

# --------------------------------------------------------------------------------------------
step "A back-office system subscribes to events (Standard Webhooks, signed)"
SUB="$(call POST /api/v1/webhook-subscriptions "$STAFF" 201 \
    '{"url": "'"$HOOK_URL"'", "topics": ["order.cancelled", "fulfillment.shipped"]}')"
SUB_ID="$(pick 'd["id"]' <<<"$SUB")"
say "subscription $SUB_ID to $(pick '", ".join(d["topics"])' <<<"$SUB") at $HOOK_URL," \
    "secret $(pick 'd["secret"][:10]' <<<"$SUB")…"
LISTED="$(call GET /api/v1/webhook-subscriptions "$STAFF" 200)"
say "the staff client lists $(pick 'len(d["results"])' <<<"$LISTED") subscription(s)"
call DELETE "/api/v1/webhook-subscriptions/$SUB_ID" "$STAFF" 204 >/dev/null
say "and deletes subscription $SUB_ID again (204)"

# --------------------------------------------------------------------------------------------
step "Bad input gets a clear error and changes nothing"
BAD="$(call POST /api/v1/stock/movements "$WMS" 400 \
    '{"location": "WH-KS", "sku": "'"$SKU"'", "quantity": 0, "kind": "receipt"}')"
say "a receipt of 0 units: 400 $(pick 'd["errors"][0]["code"]' <<<"$BAD") on" \
    "$(pick 'd["errors"][0]["attr"]' <<<"$BAD"): $(pick 'd["errors"][0]["detail"]' <<<"$BAD")"

printf '\nDone: order %s delivered, pickup %s handed over, order %s collected on a visit,' \
    "$ORDER" "$PICKUP_ORDER" "$VISIT_ORDER"
printf ' order %s cancelled.\n' "$SECOND_ORDER"
