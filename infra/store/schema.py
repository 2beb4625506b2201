"""The write store's schema, declared once for both adapters.

Tables are modelled the way Cassandra wants them: one table per query, a partition key
that the query names in full, and clustering columns that give the order inside a
partition. The SQLite adapter creates the same tables with the same primary keys, so a
query that works on one backend works on the other and nothing needs a secondary index.

It stays one long module on purpose: it is the whole write model (53 tables, grouped by the
domain that writes them), read top to bottom as one list, and both adapters create exactly it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Col(str, Enum):  # noqa: UP042 (kept: StrEnum would change the members' str(); this step changes no behaviour)
    TEXT = "text"
    INT = "int"  # 64-bit (CQL bigint)
    BOOL = "bool"
    TIMESTAMP = "timestamp"  # UTC, millisecond precision on both backends
    TEXT_LIST = "text_list"
    JSON = "json"  # any JSON value, stored as text
    COUNTER = "counter"  # only via Store.increment; a Cassandra counter table holds nothing else


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, Col]
    partition_key: tuple[str, ...]
    clustering_key: tuple[str, ...] = ()
    descending: frozenset[str] = field(default_factory=frozenset)
    purpose: str = ""

    @property
    def primary_key(self) -> tuple[str, ...]:
        return self.partition_key + self.clustering_key

    def __post_init__(self) -> None:
        for name in self.primary_key:
            if name not in self.columns:
                raise ValueError(f"{self.name}: key column {name!r} is not declared")
        if not self.descending <= set(self.clustering_key):
            raise ValueError(f"{self.name}: only clustering columns can be descending")


TABLES: dict[str, Table] = {}


def table(name: str, columns: dict[str, Col], partition_key: tuple[str, ...], *,
          clustering_key: tuple[str, ...] = (), descending: frozenset[str] = frozenset(), purpose: str = "") -> Table:
    declared = Table(name, columns, partition_key, clustering_key, descending, purpose)
    TABLES[name] = declared
    return declared


# --- catalog -------------------------------------------------------------------------

PRODUCT_COLUMNS = {
    "id": Col.TEXT,
    "type": Col.TEXT,
    "name": Col.TEXT,
    "description": Col.TEXT,
    "brand": Col.TEXT,
    "model": Col.TEXT,
    "price_amount": Col.INT,
    "currency": Col.TEXT,
    "collection_ids": Col.TEXT_LIST,
    "default_variant_id": Col.TEXT,
    "image_url": Col.TEXT,
    "created_at": Col.TIMESTAMP,
    "content_hash": Col.TEXT,  # "{product fields}.{variants}", 16 hex each: a load tells what changed
    "version": Col.INT,  # how many `product.updated` changes were saved (None: never one)
}

VARIANT_COLUMNS = {
    "id": Col.TEXT,
    "product_id": Col.TEXT,
    "blank_sku": Col.TEXT,
    "color": Col.TEXT,
    "color_hex": Col.TEXT,
    "size": Col.TEXT,
    "size_rank": Col.INT,
    "options": Col.JSON,
    "price_amount": Col.INT,
    "currency": Col.TEXT,
    "available": Col.BOOL,
    "image_front": Col.TEXT,
    "image_back": Col.TEXT,
}

PRODUCTS = table("products", PRODUCT_COLUMNS, ("id",), purpose="product page, reindex scan")

VARIANTS = table("variants", VARIANT_COLUMNS, ("id",), purpose="cart lines by variant id")

VARIANTS_BY_PRODUCT = table(
    "variants_by_product",
    VARIANT_COLUMNS,
    ("product_id",),
    clustering_key=("id",),
    purpose="product page variant picker; search document build",
)

VARIANTS_BY_BLANK_SKU = table(
    "variants_by_blank_sku",
    {"blank_sku": Col.TEXT, "variant_id": Col.TEXT, "product_id": Col.TEXT},
    ("blank_sku",),
    clustering_key=("variant_id",),
    purpose="which products a stock change of one blank SKU touches",
)

COLLECTIONS = table(
    "collections",
    {"id": Col.TEXT, "name": Col.TEXT, "slug": Col.TEXT, "description": Col.TEXT},
    ("id",),
    purpose="collection names and slugs",
)

# All collections live in one small partition so the list is one read, not a scan.
COLLECTIONS_BY_SHOP = table(
    "collections_by_shop",
    {"shop": Col.TEXT, "id": Col.TEXT, "name": Col.TEXT, "slug": Col.TEXT},
    ("shop",),
    clustering_key=("id",),
    purpose="list every collection",
)

PRODUCTS_BY_COLLECTION = table(
    "products_by_collection",
    {
        "collection_id": Col.TEXT,
        "product_id": Col.TEXT,
        "name": Col.TEXT,
        "price_amount": Col.INT,
        "image_url": Col.TEXT,
    },
    ("collection_id",),
    clustering_key=("product_id",),
    purpose="a collection's products",
)

META = table(
    "meta",
    {"key": Col.TEXT, "value": Col.JSON, "updated_at": Col.TIMESTAMP},
    ("key",),
    purpose="small facts about the deployment (catalog loaded, schema version)",
)

SHOP = "default"  # the partition of shop-wide lists; one shop per deployment

# --- orders (written when checkout places an order) -------------------------------------

ORDERS = table(
    "orders",
    {
        "order_id": Col.TEXT,
        "confirmation_code": Col.TEXT,
        "customer_id": Col.TEXT,  # shopper id, or "guest:<email>" for guest checkout
        "email": Col.TEXT,
        "status": Col.TEXT,
        "placed_at": Col.TIMESTAMP,
        "currency": Col.TEXT,
        "subtotal": Col.INT,
        "discount": Col.INT,
        "shipping": Col.INT,
        "tax": Col.INT,
        "total": Col.INT,
        "lines": Col.JSON,
        "shipping_address": Col.JSON,
        "payment": Col.JSON,
        "refunded": Col.INT,
        "refunds": Col.JSON,
        "feedback": Col.JSON,
        "payment_alert": Col.TEXT,  # disputed | failed: the provider's last alerting event, for staff
        "returns": Col.JSON,  # the order's return summaries (domains.returns.messages.ReturnSummary)
        "return_state": Col.TEXT,  # "" | partially_returned | returned
        "updated_at": Col.TIMESTAMP,
    },
    ("order_id",),
    purpose="an order by id",
)

ORDERS_BY_CUSTOMER = table(
    "orders_by_customer",
    {
        "customer_id": Col.TEXT,
        "placed_at": Col.TIMESTAMP,
        "order_id": Col.TEXT,
        "confirmation_code": Col.TEXT,
        "status": Col.TEXT,
        "total": Col.INT,
        "currency": Col.TEXT,
    },
    ("customer_id",),
    clustering_key=("placed_at", "order_id"),
    descending=frozenset({"placed_at"}),
    purpose="a shopper's orders, newest first",
)

ORDERS_BY_CONFIRMATION = table(
    "orders_by_confirmation",
    {"confirmation_code": Col.TEXT, "order_id": Col.TEXT, "email": Col.TEXT},
    ("confirmation_code",),
    purpose="find an order by its confirmation code (guest order lookup)",
)

ORDER_HISTORY = table(
    "order_history",
    {
        "order_id": Col.TEXT,
        "seq": Col.INT,  # assigned by the order workflow, so a retried write lands on the same row
        "at": Col.TIMESTAMP,
        "kind": Col.TEXT,  # status | note | refund | feedback | fulfillment
        "from_status": Col.TEXT,
        "to_status": Col.TEXT,
        "actor": Col.TEXT,
        "note": Col.TEXT,
    },
    ("order_id",),
    clustering_key=("seq",),
    purpose="an order's audit trail: every status change and staff action, with who and when",
)

SUPPLIER_ORDERS = table(
    "supplier_orders",
    {
        "order_id": Col.TEXT,
        "supplier_order_id": Col.TEXT,
        "supplier": Col.TEXT,
        "strategy": Col.TEXT,
        "status": Col.TEXT,
        "lines": Col.JSON,
        "carrier": Col.TEXT,
        "tracking_number": Col.TEXT,
        "note": Col.TEXT,
        "created_at": Col.TIMESTAMP,
        "updated_at": Col.TIMESTAMP,
    },
    ("order_id",),
    clustering_key=("supplier_order_id",),
    purpose="an order's supplier orders and shipments (order pages after the workflow closed)",
)

ORDER_EMAILS = table(
    "order_emails",
    {
        "order_id": Col.TEXT,
        "event": Col.TEXT,  # confirmed | shipped:{supplier order} | delivered | cancelled | refunded:{refund id}
        "kind": Col.TEXT,
        "message_id": Col.TEXT,
        "recipient": Col.TEXT,
        "email": Col.JSON,  # the RenderedEmail, kept as first rendered
        "state": Col.TEXT,  # rendered -> sending (one attempt holds it) -> sent
        "rendered_at": Col.TIMESTAMP,
        "claimed_at": Col.TIMESTAMP,
        "sent_at": Col.TIMESTAMP,
    },
    ("order_id",),
    clustering_key=("event",),
    purpose="an order's transactional emails as rendered and whether each went out: a retried send never sends twice",
)

# --- returns (written by each return workflow's save activity) ----------------------------

RETURN_COLUMNS = {
    "return_id": Col.TEXT,  # {confirmation code}-R{n}
    "workflow_id": Col.TEXT,  # return-{order id}-{n}
    "order_id": Col.TEXT,
    "confirmation_code": Col.TEXT,
    "email": Col.TEXT,
    "status": Col.TEXT,
    "reasons": Col.TEXT_LIST,
    "created_at": Col.TIMESTAMP,
    "updated_at": Col.TIMESTAMP,
    "refund_amount": Col.INT,
    "needs_manager": Col.BOOL,
    "view": Col.JSON,  # the ReturnView as last saved (the return's page once its workflow closed)
    "version": Col.INT,  # the save's number: a retried older save never overwrites a newer one
}

RETURNS = table("returns", RETURN_COLUMNS, ("return_id",), purpose="a return by its id")

RETURNS_BY_ORDER = table(
    "returns_by_order",
    RETURN_COLUMNS,
    ("order_id",),
    clustering_key=("return_id",),
    purpose="an order's returns (its page, the returnable quantities after the order closed)",
)

RETURNS_BY_SHOP = table(
    "returns_by_shop",
    {**RETURN_COLUMNS, "shop": Col.TEXT},
    ("shop",),
    clustering_key=("created_at", "return_id"),
    descending=frozenset({"created_at"}),
    purpose="the admin's returns list, newest first, filtered by status, reason and age as it is read",
)

SUPPLIER_ROUTES = table(
    "supplier_routes",
    {
        "shop": Col.TEXT,
        "brand": Col.TEXT,
        "supplier": Col.TEXT,
        "strategy": Col.TEXT,  # simulated | dropship | manual
        "behaviour": Col.TEXT,  # dropship only: how the simulated supplier API answers
    },
    ("shop",),
    clustering_key=("brand",),
    purpose="the routing table: which supplier makes a brand's blanks, and how it is fulfilled",
)

SHIPMENTS_BY_TRACKING = table(
    "shipments_by_tracking",
    {"tracking_number": Col.TEXT, "carrier": Col.TEXT, "order_id": Col.TEXT, "supplier_order_id": Col.TEXT},
    ("tracking_number",),
    purpose="tracking numbers are unique: a shipment claims its number here first",
)

SETTINGS = table(
    "settings",
    {"name": Col.TEXT, "value": Col.JSON, "updated_at": Col.TIMESTAMP, "updated_by": Col.TEXT},
    ("name",),
    purpose="store settings per domain (orders, fulfillment), read by workflows through activities",
)

# --- identity (written by identity's workflows through their activities) ----------------

SHOPPERS = table(
    "shoppers",
    {"shopper_id": Col.TEXT, "email": Col.TEXT, "name": Col.TEXT, "phone": Col.TEXT,
     "registered_at": Col.TIMESTAMP, "addresses": Col.JSON, "credentials": Col.JSON, "cart_id": Col.TEXT,
     "updated_at": Col.TIMESTAMP},
    ("shopper_id",),
    purpose="a shopper's profile, saved addresses and credentials, read at sign-in and per signed-in request",
)

STAFF_USERS = table(
    "staff_users",
    {"shop": Col.TEXT, "staff_id": Col.TEXT, "email": Col.TEXT, "name": Col.TEXT, "role": Col.TEXT,
     "active": Col.BOOL, "created_at": Col.TIMESTAMP, "created_by": Col.TEXT, "credentials": Col.JSON,
     "updated_at": Col.TIMESTAMP},
    ("shop",),
    clustering_key=("staff_id",),
    purpose="staff users: one by id at sign-in and per request, all of them on the staff page",
)

API_TOKENS = table(
    "api_tokens",
    {"shop": Col.TEXT, "token_id": Col.TEXT, "name": Col.TEXT, "scopes": Col.TEXT_LIST,
     "secret_sha256": Col.TEXT, "created_by": Col.TEXT, "created_at": Col.TIMESTAMP,
     "revoked_at": Col.TIMESTAMP, "revoked_by": Col.TEXT, "last_used_at": Col.TIMESTAMP},
    ("shop",),
    clustering_key=("token_id",),
    purpose="API tokens (a hash of the secret only): one by id per API request, all on the tokens page",
)

IDENTITY_AUDIT = table(
    "identity_audit",
    {"shop": Col.TEXT, "at": Col.TIMESTAMP, "entry_id": Col.TEXT, "actor": Col.TEXT, "action": Col.TEXT,
     "target": Col.TEXT, "detail": Col.TEXT},
    ("shop",),
    clustering_key=("at", "entry_id"),
    descending=frozenset({"at", "entry_id"}),
    purpose="who changed staff users, tokens and settings, newest first",
)

# --- inventory (projected by the inventory service; it alone decides stock) -------------

STOCK = table(
    "stock",
    {
        "sku": Col.TEXT,
        "on_hand": Col.INT,
        "reserved": Col.INT,
        "committed": Col.INT,
        "available": Col.INT,
        "updated_at": Col.TIMESTAMP,
        "locations": Col.JSON,  # [{location, on_hand, committed, available, active}] (None: only the default)
        "backorder_limit": Col.INT,
        "preorder_until": Col.TIMESTAMP,
        "waiting": Col.INT,  # confirmed units waiting for stock
    },
    ("sku",),
    purpose="stock per blank SKU, as last projected (admin lists, search availability)",
)

# Every location of the shop in one small partition: the registry is one read.
LOCATIONS = table(
    "locations",
    {"shop": Col.TEXT, "id": Col.TEXT, "name": Col.TEXT, "kind": Col.TEXT, "country": Col.TEXT, "state": Col.TEXT,
     "city": Col.TEXT, "address_line": Col.TEXT, "priority": Col.INT, "active": Col.BOOL,
     "updated_at": Col.TIMESTAMP},
    ("shop",),
    clustering_key=("id",),
    purpose="stock locations (warehouses, suppliers): the registry the inventory shards route with",
)

# --- cart ------------------------------------------------------------------------------

COUPONS = table(
    "coupons",
    {
        "code": Col.TEXT,
        "percent_off": Col.INT,
        "amount_off": Col.INT,
        "minimum_subtotal": Col.INT,
        "description": Col.TEXT,
        "active": Col.BOOL,
    },
    ("code",),
    purpose="coupon by code",
)

CART_EVENTS = table(
    "cart_events",
    {"cart_id": Col.TEXT, "at": Col.TIMESTAMP, "event": Col.TEXT, "data": Col.JSON},
    ("cart_id",),
    clustering_key=("at", "event"),
    purpose="a cart's lifecycle events (abandoned, completed) for cadences and the admin",
)

ABANDONED_CARTS_BY_DAY = table(
    "abandoned_carts_by_day",
    {"day": Col.TEXT, "cart_id": Col.TEXT, "shopper_id": Col.TEXT, "at": Col.TIMESTAMP, "lines": Col.JSON},
    ("day",),
    clustering_key=("cart_id",),
    purpose="carts abandoned on a day (what an abandoned-cart cadence enrolls)",
)

# --- payments (the simulated gateway's ledger) -------------------------------------------

PAYMENTS = table(
    "payments",
    {
        "idempotency_key": Col.TEXT,
        "charge_id": Col.TEXT,
        "token": Col.TEXT,
        "amount": Col.INT,
        "currency": Col.TEXT,
        "status": Col.TEXT,
        "created_at": Col.TIMESTAMP,
    },
    ("idempotency_key",),
    purpose="one charge per idempotency key: a retried charge finds the first one",
)

REFUNDS = table(
    "refunds",
    {
        "idempotency_key": Col.TEXT,
        "charge_id": Col.TEXT,
        "amount": Col.INT,
        "reason": Col.TEXT,
        "created_at": Col.TIMESTAMP,
    },
    ("idempotency_key",),
    purpose="one refund per idempotency key",
)

REFUNDS_BY_CHARGE = table(
    "refunds_by_charge",
    {"charge_id": Col.TEXT, "idempotency_key": Col.TEXT, "amount": Col.INT, "created_at": Col.TIMESTAMP},
    ("charge_id",),
    clustering_key=("idempotency_key",),
    purpose="a charge's refunds",
)

CHARGE_LEDGER = table(
    "charge_ledger",
    {"charge_id": Col.TEXT, "seq": Col.INT, "kind": Col.TEXT, "idempotency_key": Col.TEXT, "amount": Col.INT,
     "created_at": Col.TIMESTAMP},
    ("charge_id",),
    clustering_key=("seq",),
    purpose="a charge (seq 0) and its refunds (1, 2, ...), each slot claimed insert-if-absent: "
            "concurrent refunds never sum over the charge",
)

# --- payments through the payments port (authorize, capture, void, refund; any provider) ---

PAYMENT_INTENTS = table(
    "payment_intents",
    {
        "payment_id": Col.TEXT,  # pay_...: derived from the authorization's idempotency key
        "idempotency_key": Col.TEXT,
        "provider": Col.TEXT,  # simulated | stripe
        "provider_id": Col.TEXT,  # the provider's id (a Stripe PaymentIntent pi_...)
        "amount": Col.INT,  # authorized, minor units
        "currency": Col.TEXT,
        "status": Col.TEXT,  # authorized | requires_action
        "next_action": Col.JSON,  # the provider's next action when requires_action
        "multicapture": Col.BOOL,  # several partial captures allowed
        "authorized_at": Col.TIMESTAMP,
        "expires_at": Col.TIMESTAMP,  # capture before, or re-authorize
    },
    ("payment_id",),
    purpose="an authorization (a payment intent) per idempotency key: a retried authorize finds the first",
)

PAYMENT_OPERATIONS = table(
    "payment_operations",
    {"payment_id": Col.TEXT, "seq": Col.INT, "kind": Col.TEXT,  # authorize (seq 0) | capture | void | refund
     "idempotency_key": Col.TEXT, "amount": Col.INT,
     "status": Col.TEXT,  # pending (claimed, provider called or about to be) | succeeded | failed
     "final": Col.BOOL,  # a capture after which nothing more is captured (the rest is released)
     "provider_ref": Col.TEXT, "error_code": Col.TEXT, "error": Col.TEXT,  # a refusal's PaymentErrorCode, message
     "created_at": Col.TIMESTAMP, "updated_at": Col.TIMESTAMP},
    ("payment_id",),
    clustering_key=("seq",),
    purpose="a payment's timeline: the authorization in slot 0, then captures, voids and refunds, each slot "
            "claimed insert-if-absent after summing the ones before it: never captured above the "
            "authorization, refunded above the captures, or captured after a void",
)

PAYMENTS_BY_PROVIDER_ID = table(
    "payments_by_provider_id",
    {"provider_id": Col.TEXT, "payment_id": Col.TEXT, "provider": Col.TEXT,
     "order_id": Col.TEXT},  # set when the order is created (after the authorization)
    ("provider_id",),
    purpose="the provider's id (pi_...) -> the payment and its order: an inbound provider event finds its order",
)

# --- cadences (written by the cadence and enrollment workflows' activities) -----------------

CADENCES = table(
    "cadences",
    {
        "shop": Col.TEXT,
        "cadence_id": Col.TEXT,
        "name": Col.TEXT,
        "trigger": Col.TEXT,
        "active": Col.BOOL,
        "version": Col.INT,
        "definition": Col.JSON,  # the whole CadenceDefinition of the latest version
        "updated_at": Col.TIMESTAMP,
    },
    ("shop",),
    clustering_key=("cadence_id",),
    purpose="every cadence's latest version (the admin list, triggers, new enrollments)",
)

CADENCE_VERSIONS = table(
    "cadence_versions",
    {"cadence_id": Col.TEXT, "version": Col.INT, "definition": Col.JSON, "saved_at": Col.TIMESTAMP,
     "saved_by": Col.TEXT},
    ("cadence_id",),
    clustering_key=("version",),
    descending=frozenset({"version"}),
    purpose="each saved version of a cadence, newest first: who changed what",
)

CADENCE_ENROLLMENTS = table(
    "cadence_enrollments",
    {
        "cadence_id": Col.TEXT,
        "contact_id": Col.TEXT,
        "email": Col.TEXT,
        "name": Col.TEXT,
        "workflow_id": Col.TEXT,
        "enrollment_key": Col.TEXT,
        "status": Col.TEXT,
        "current_step": Col.INT,
        "step_id": Col.TEXT,
        "steps_version": Col.INT,
        "source": Col.TEXT,
        "enrolled_by": Col.TEXT,
        "enrolled_at": Col.TIMESTAMP,
        "updated_at": Col.TIMESTAMP,
        "ended_reason": Col.TEXT,
    },
    ("cadence_id",),
    clustering_key=("contact_id",),
    purpose="a contact's latest enrollment in a cadence, also after its workflow is gone",
)

CADENCE_CONTACT_ENROLLMENTS = table(
    "cadence_contact_enrollments",
    {"contact_id": Col.TEXT, "cadence_id": Col.TEXT, "workflow_id": Col.TEXT, "status": Col.TEXT,
     "updated_at": Col.TIMESTAMP},
    ("contact_id",),
    clustering_key=("cadence_id",),
    purpose="a contact's enrollments in every cadence (unsubscribe ends the running ones)",
)

CADENCE_TIMELINE = table(
    "cadence_timeline",
    {"enrollment_key": Col.TEXT, "seq": Col.INT, "at": Col.TIMESTAMP, "kind": Col.TEXT, "step_id": Col.TEXT,
     "detail": Col.TEXT},
    ("enrollment_key",),
    clustering_key=("seq",),
    purpose="an enrollment's timeline: emails sent, waits, pauses, edits, its end",
)

CADENCE_OUTBOX = table(
    "cadence_outbox",
    {
        "key": Col.TEXT,  # {enrollment_key}:{step_id}: one email per step per enrollment
        "message_id": Col.TEXT,
        "recipient": Col.TEXT,
        "email": Col.JSON,  # the RenderedEmail, kept as first rendered
        "rendered_at": Col.TIMESTAMP,
        "sent_at": Col.TIMESTAMP,
    },
    ("key",),
    purpose="each cadence email as rendered, and when it was sent: a retried step never sends twice",
)

CADENCE_SEND_CLAIMS = table(
    "cadence_send_claims",
    {"key": Col.TEXT, "claimed_at": Col.TIMESTAMP},
    ("key",),
    purpose="the attempt handing a cadence email to the mail system: one at a time, and never after one that may have",
)

STAFF_ALERTS = table(
    "staff_alerts",
    {"alert_id": Col.TEXT, "order_id": Col.TEXT, "kind": Col.TEXT, "recipients": Col.INT, "sent_at": Col.TIMESTAMP},
    ("alert_id",),
    purpose="a payment alert (dispute, failure) emailed to staff: sent once the mail system took it",
)

CADENCE_UNSUBSCRIBES = table(
    "cadence_unsubscribes",
    {"contact_id": Col.TEXT, "email": Col.TEXT, "at": Col.TIMESTAMP, "source": Col.TEXT},
    ("contact_id",),
    purpose="contacts who unsubscribed: never enrolled or emailed again",
)

# --- webhooks (endpoints registered by staff; events and attempts written by the activities) ---

WEBHOOK_ENDPOINTS = table(
    "webhook_endpoints",
    {
        "shop": Col.TEXT,
        "endpoint_id": Col.TEXT,
        "url": Col.TEXT,
        "events": Col.TEXT_LIST,  # event types it receives
        "secret": Col.TEXT,  # whsec_...: shown once at registration (or rotation), then only used to sign
        "previous_secret": Col.TEXT,  # the secret before a rotation: requests carry both signatures until
        "previous_until": Col.TIMESTAMP,  # the end of the grace period
        "active": Col.BOOL,
        "failing_since": Col.TIMESTAMP,  # the first failed attempt since the last success (None: healthy)
        "disabled_reason": Col.TEXT,
        "description": Col.TEXT,
        "created_by": Col.TEXT,
        "created_at": Col.TIMESTAMP,
        "updated_at": Col.TIMESTAMP,
    },
    ("shop",),
    clustering_key=("endpoint_id",),
    purpose="outbound webhook endpoints (few per shop): emission reads them all",
)

WEBHOOK_EVENTS = table(
    "webhook_events",
    {"event_id": Col.TEXT, "type": Col.TEXT, "ordering_key": Col.TEXT, "created_at": Col.TIMESTAMP,
     "body": Col.TEXT},  # the envelope's JSON, as first serialised: every attempt sends these bytes
    ("event_id",),
    purpose="each emitted event once (id derived from the saved change): deliveries and redeliveries send it",
)

WEBHOOK_DELIVERIES = table(
    "webhook_deliveries",
    {"endpoint_id": Col.TEXT, "event_id": Col.TEXT, "type": Col.TEXT, "status": Col.TEXT,  # delivered|failed|gone
     "attempts": Col.INT, "http_status": Col.INT, "updated_at": Col.TIMESTAMP},
    ("endpoint_id",),
    clustering_key=("event_id",),
    purpose="an event's delivery to an endpoint: a delivered one is not sent again unless redelivered",
)

WEBHOOK_ATTEMPTS = table(
    "webhook_attempts",
    {"endpoint_id": Col.TEXT, "at": Col.TIMESTAMP, "attempt_id": Col.TEXT, "event_id": Col.TEXT, "type": Col.TEXT,
     "attempt": Col.INT, "http_status": Col.INT, "ok": Col.BOOL, "latency_ms": Col.INT, "error": Col.TEXT,
     "response_excerpt": Col.TEXT},
    ("endpoint_id",),
    clustering_key=("at", "attempt_id"),
    descending=frozenset({"at", "attempt_id"}),
    purpose="every delivery attempt to an endpoint, newest first: status, latency, the response's start",
)

WEBHOOK_AUDIT = table(
    "webhook_audit",
    {"endpoint_id": Col.TEXT, "at": Col.TIMESTAMP, "entry_id": Col.TEXT, "actor": Col.TEXT, "action": Col.TEXT,
     "detail": Col.TEXT},  # action: registered | disabled | enabled | rotated | deleted
    ("endpoint_id",),
    clustering_key=("at", "entry_id"),
    descending=frozenset({"at", "entry_id"}),
    purpose="who registered, disabled, enabled, rotated or deleted an endpoint, newest first (kept after a delete)",
)

# --- web sessions --------------------------------------------------------------------------

WEB_SESSIONS = table(
    "web_sessions",
    {
        "session_key": Col.TEXT,
        "data": Col.TEXT,  # Django's signed session encoding
        "expires_at": Col.TIMESTAMP,  # checked on every read; Cassandra's TTL also drops the row then
        "live": Col.BOOL,  # always true: a save writes only while the row exists (IF live = true)
    },
    ("session_key",),
    purpose="browser sessions (storefront.session_store): deleting a row signs that cookie out everywhere",
)

# --- web ---------------------------------------------------------------------------------

IDEMPOTENCY = table(
    "idempotency",
    {
        "scope": Col.TEXT,  # the cart (or client) the key belongs to, with method and path
        "key": Col.TEXT,
        "state": Col.TEXT,  # in_progress | done
        "status": Col.INT,
        "body": Col.JSON,
        "created_at": Col.TIMESTAMP,
        "request_hash": Col.TEXT,  # sha256 of method + path + body: the same key with another body is refused
        "owner": Col.TEXT,  # who holds the lease (compare-and-set on it hands the key over)
        "lease_until": Col.TIMESTAMP,  # an in_progress row past this is a dead request's: taken over
        "expires_at": Col.TIMESTAMP,  # 24 h after the claim (Cassandra: TTL; SQLite: checked and purged)
    },
    ("scope", "key"),
    purpose="replay the final response of a retried mutating API call (Idempotency-Key)",
)

RATE_WINDOWS = table(
    "rate_windows",
    {"bucket": Col.TEXT, "window": Col.INT, "hits": Col.COUNTER},
    ("bucket",),
    clustering_key=("window",),
    purpose="fixed-window rate-limit counters shared by every web process (bucket = limit:client)",
)
