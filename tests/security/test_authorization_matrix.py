"""Who may do what, for every route the shop serves, proven against real workflows.

One table below names, for each route and method, what each principal gets. The principals
(tests/security/principals.py) are a visitor, shoppers A and B, a member of staff per role,
and an API client per token scope plus one whose token was revoked. Every browser enforces
CSRF and sends the token a form would carry; `test_a_post_without_the_csrf_token_is_refused`
shows the token is needed (tests/security/test_csrf.py does the same for the JSON API). Rows
whose path ends in `#cart_a_open` name shopper A's open cart in `X-Cart-Id`: a cart a shopper
owns answers only to that shopper, everyone else meets the unknown cart's 404. A route that
the table does not name fails `test_every_route_is_in_the_matrix`, so a new page cannot ship
without deciding who may use it. The module is long because the table is the point: every
route in one place.

Outcomes:
  ok     2xx, or a redirect that is not to a sign-in page (the action or page itself)
  login  302 to the staff (/admin/...) or shopper sign-in page with `?next=`
  4xx    exactly that status: 401 no or bad token, 403 not allowed, 404 "no such thing" (another
         shopper's order or address looks exactly like one that does not exist), 400/409 the
         principal got through and the request itself was refused (bad form, wrong state)

The order in the table is A's, placed from another of A's devices and cancelled before the
table runs, so every allowed refund, note, advance or reject meets a 409 (closed order), an API
cancel answers 200 with the order as it is (idempotent), and nothing a row does changes what a
later row sees; the token the admin rows revoke is the
one already revoked. The return rows name a second order of A's (`rcode`), delivered, and its
return (`return_id`), which A opened and staff rejected: every allowed step on it meets a 409
(illegal transition), and every allowed open asks for more units than the order has (409
quantity_not_returnable). Sign-out rows come last.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from temporalio.service import RPCError

from domains.fulfillment import client as fulfillment
from domains.orders.messages import OrderStatus
from storefront import email_links

from ..web.accounts import PASSWORD
from ..web.orders_helpers import SHIPPING, place, run, until
from .principals import PRINCIPALS, Principal, everyone, sign_in

TABLE = """
route                          method path                                          anon  A     B     owner manag suppo fulfi t:sea t:ord t:owr t:ful t:cad t:rev
healthz                        GET    /healthz                                      ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
favicon                        GET    /favicon.ico                                  ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
metrics                        GET    /metrics                                      ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
api-schema                     GET    /api/schema/                                  ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-webhooks-schema            GET    /api/webhooks/schema.json                     ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
api-search                     GET    /api/search?q=shirt                           ok    ok    ok    ok    ok    ok    ok    ok    403   403   403   403   401
api-product                    GET    /api/products/{product}                       ok    ok    ok    ok    ok    ok    ok    ok    403   403   403   403   401
api-cart                       GET    /api/cart                                     ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-cart-items                 POST   /api/cart/items                               ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-cart-item                  PATCH  /api/cart/items/nope                          404   404   404   404   404   404   404   404   404   404   404   404   401
api-cart-item                  DELETE /api/cart/items/nope                          404   404   404   404   404   404   404   404   404   404   404   404   401
api-cart-coupon                POST   /api/cart/coupon                              400   400   400   400   400   400   400   400   400   400   400   400   401
api-cart-coupon                DELETE /api/cart/coupon                              ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-checkout                   POST   /api/checkout                                 ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-checkout                   GET    /api/checkout                                 ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-checkout-shipping          PUT    /api/checkout/shipping                        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-payments-stripe-webhook    POST   /api/payments/webhooks/stripe                 400   400   400   400   400   400   400   400   400   400   400   400   400
api-checkout-submit            POST   /api/checkout/submit                          409   409   409   409   409   409   409   409   409   409   409   409   401
api-checkout-payment           PUT    /api/checkout/payment                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-checkout                   DELETE /api/checkout                                 ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-cart                       GET    /api/cart#cart_a_open                         404   ok    404   404   404   404   404   404   404   404   404   404   401
api-cart-items                 POST   /api/cart/items#cart_a_open                   404   ok    404   404   404   404   404   404   404   404   404   404   401
api-cart-coupon                DELETE /api/cart/coupon#cart_a_open                  404   ok    404   404   404   404   404   404   404   404   404   404   401
api-checkout                   POST   /api/checkout#cart_a_open                     404   ok    404   404   404   404   404   404   404   404   404   404   401
api-checkout                   GET    /api/checkout#cart_a_open                     404   ok    404   404   404   404   404   404   404   404   404   404   401
api-checkout-shipping          PUT    /api/checkout/shipping#cart_a_open            404   ok    404   404   404   404   404   404   404   404   404   404   401
api-checkout-submit            POST   /api/checkout/submit#cart_a_open              404   409   404   404   404   404   404   404   404   404   404   404   401
api-checkout                   DELETE /api/checkout#cart_a_open                     404   ok    404   404   404   404   404   404   404   404   404   404   401
api-orders                     GET    /api/orders                                   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    401
api-orders-lookup              POST   /api/orders/lookup                            404   404   404   404   404   404   404   404   404   404   404   404   401
api-order                      GET    /api/orders/{code}                            404   ok    404   404   404   404   404   404   404   404   404   404   401
api-order-cancel               POST   /api/orders/{code}/cancel                     404   ok    404   404   404   404   404   404   404   404   404   404   401
api-order-feedback             POST   /api/orders/{code}/feedback                   404   409   404   404   404   404   404   404   404   404   404   404   401
api-order-returns              POST   /api/orders/{rcode}/returns                   404   409   404   404   404   404   404   404   404   404   404   404   401
api-return                     GET    /api/returns/{return_id}                      404   ok    404   404   404   404   404   404   404   404   404   404   401
api-return-tracking            POST   /api/returns/{return_id}/tracking             404   409   404   404   404   404   404   404   404   404   404   404   401
api-order-edit-preview         POST   /api/orders/{code}/edits/preview              404   409   404   404   404   404   404   404   404   404   404   404   401
api-order-edit-confirm         POST   /api/orders/{code}/edits/confirm              404   409   404   404   404   404   404   404   404   404   404   404   401
api-order-edit-abandon         POST   /api/orders/{code}/edits/abandon              404   409   404   404   404   404   404   404   404   404   404   404   401
api-staff-order                GET    /api/staff/orders/{code}                      401   401   401   401   401   401   401   403   ok    403   403   403   401
api-staff-cancel               POST   /api/staff/orders/{code}/cancel               401   401   401   401   401   401   401   403   403   ok    403   403   401
api-staff-refund               POST   /api/staff/orders/{code}/refund               401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-note                 POST   /api/staff/orders/{code}/notes                401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-advance              POST   /api/staff/orders/{code}/fulfillment          401   401   401   401   401   401   401   403   403   403   409   403   401
api-staff-order-returns        POST   /api/staff/orders/{rcode}/returns             401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-returns              GET    /api/staff/returns                            401   401   401   401   401   401   401   403   ok    403   403   403   401
api-staff-return               GET    /api/staff/returns/{return_id}                401   401   401   401   401   401   401   403   ok    403   403   403   401
api-staff-return-approve       POST   /api/staff/returns/{return_id}/approve        401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-return-reject        POST   /api/staff/returns/{return_id}/reject         401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-return-in-transit    POST   /api/staff/returns/{return_id}/in-transit     401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-return-receive       POST   /api/staff/returns/{return_id}/receive        401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-return-refund        POST   /api/staff/returns/{return_id}/refund         401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-edit-preview         POST   /api/staff/orders/{code}/edits/preview        401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-edit-confirm         POST   /api/staff/orders/{code}/edits/confirm        401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-edit-abandon         POST   /api/staff/orders/{code}/edits/abandon        401   401   401   401   401   401   401   403   403   409   403   403   401
api-staff-cadences             GET    /api/staff/cadences                           401   401   401   401   401   401   401   403   403   403   403   ok    401
api-staff-cadences             POST   /api/staff/cadences                           401   401   401   401   401   401   401   403   403   403   403   400   401
api-staff-cadence              GET    /api/staff/cadences/{cadence}                 401   401   401   401   401   401   401   403   403   403   403   ok    401
api-staff-cadence              PUT    /api/staff/cadences/{cadence}                 401   401   401   401   401   401   401   403   403   403   403   400   401
api-staff-cadence-enrollments  GET    /api/staff/cadences/{cadence}/enrollments     401   401   401   401   401   401   401   403   403   403   403   ok    401
api-staff-cadence-enrollments  POST   /api/staff/cadences/{cadence}/enrollments     401   401   401   401   401   401   401   403   403   403   403   400   401
api-staff-enrollment           GET    /api/staff/cadences/{cadence}/enrollments/{contact} 401   401   401   401   401   401   401   403   403   403   403   ok    401
api-staff-enrollment-action    POST   /api/staff/cadences/{cadence}/enrollments/{contact}/pause 401   401   401   401   401   401   401   403   403   403   403   409   401
api-staff-unsubscribes         POST   /api/staff/unsubscribes                       401   401   401   401   401   401   401   403   403   403   403   400   401
api-staff-webhooks             GET    /api/staff/webhooks                           401   401   401   401   401   401   401   403   403   403   403   403   401
api-staff-webhooks             POST   /api/staff/webhooks                           401   401   401   401   401   401   401   403   403   403   403   403   401
api-staff-webhook              GET    /api/staff/webhooks/we_0123456789abcdef       401   401   401   401   401   401   401   403   403   403   403   403   401
api-staff-webhook              PATCH  /api/staff/webhooks/we_0123456789abcdef       401   401   401   401   401   401   401   403   403   403   403   403   401
api-staff-webhook              DELETE /api/staff/webhooks/we_0123456789abcdef       401   401   401   401   401   401   401   403   403   403   403   403   401
api-staff-webhook-ping         POST   /api/staff/webhooks/we_0123456789abcdef/ping  401   401   401   401   401   401   401   403   403   403   403   403   401
api-staff-webhook-redeliver    POST   /api/staff/webhooks/we_0123456789abcdef/redeliver 401   401   401   401   401   401   401   403   403   403   403   403   401
shop                           GET    /shop/                                        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-product                   GET    /shop/products/{product}                      ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
garment-image                  GET    /shop/img/tee/1a2b3c/front.svg                ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-cart                      GET    /shop/cart                                    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-cart-add                  POST   /shop/cart/add                                ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-cart-change               POST   /shop/cart/change                             ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-checkout                  GET    /shop/checkout                                ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-checkout-action           POST   /shop/checkout/action                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-orders                    GET    /shop/orders/                                 ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-orders-lookup             POST   /shop/orders/lookup                           ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-order                     GET    /shop/orders/{code}                           404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-order-cancel              POST   /shop/orders/{code}/cancel                    404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-order-feedback            POST   /shop/orders/{code}/feedback                  404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-order-return              GET    /shop/orders/{rcode}/return                   404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-order-return              POST   /shop/orders/{rcode}/return                   404   409   404   404   404   404   404   404   404   404   404   404   404
shop-return                    GET    /shop/returns/{return_id}                     404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-return-tracking           POST   /shop/returns/{return_id}/tracking            404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-order-address             POST   /shop/orders/{code}/address                   404   ok    404   404   404   404   404   404   404   404   404   404   404
shop-unsubscribe               GET    /shop/unsubscribe/{unsubscribe_token}         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-unsubscribe               POST   /shop/unsubscribe/{unsubscribe_token}         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-cart-restore              GET    /shop/cart/restore/not-a-token                404   404   404   404   404   404   404   404   404   404   404   404   404
shop-order-review              GET    /shop/orders/review/not-a-token               404   404   404   404   404   404   404   404   404   404   404   404   404
shop-account                   GET    /shop/account/                                login ok    ok    login login login login login login login login login login
shop-account-profile           POST   /shop/account/profile/                        login ok    ok    login login login login login login login login login login
shop-account-signup            GET    /shop/account/signup/                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-account-signup            POST   /shop/account/signup/                         400   400   400   400   400   400   400   400   400   400   400   400   400
shop-account-login             GET    /shop/account/login/                          ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-account-login             POST   /shop/account/login/                          400   400   400   400   400   400   400   400   400   400   400   400   400
shop-account-password          GET    /shop/account/password/                       login ok    ok    login login login login login login login login login login
shop-account-password          POST   /shop/account/password/                       login 400   400   login login login login login login login login login login
shop-account-reset             GET    /shop/account/reset/                          ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-account-reset             POST   /shop/account/reset/                          ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-account-reset-confirm     GET    /shop/account/reset/{shopper_a}/not-a-token/  400   400   400   400   400   400   400   400   400   400   400   400   400
shop-account-verify            GET    /shop/account/verify/not-a-token/             ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
shop-account-verify-resend     POST   /shop/account/verify/                         login ok    ok    login login login login login login login login login login
shop-account-address-new       GET    /shop/account/addresses/new/                  login ok    ok    login login login login login login login login login login
shop-account-address-new       POST   /shop/account/addresses/new/                  login 400   400   login login login login login login login login login login
shop-account-address           GET    /shop/account/addresses/{address_a}/          login ok    404   login login login login login login login login login login
shop-account-address           POST   /shop/account/addresses/{address_a}/          login ok    404   login login login login login login login login login login
shop-account-address-default   POST   /shop/account/addresses/{address_a}/default/  login ok    404   login login login login login login login login login login
admin-login                    GET    /admin/login/                                 ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
admin-login                    POST   /admin/login/                                 400   400   400   400   400   400   400   400   400   400   400   400   400
admin-dashboard                GET    /admin/                                       login login login ok    ok    ok    403   login login login login login login
admin-staff                    GET    /admin/staff/                                 login login login ok    403   403   403   login login login login login login
admin-staff                    POST   /admin/staff/                                 login login login 400   403   403   403   login login login login login login
admin-staff-change             POST   /admin/staff/{staff_support}                  login login login ok    403   403   403   login login login login login login
admin-tokens                   GET    /admin/tokens/                                login login login ok    ok    403   403   login login login login login login
admin-tokens                   POST   /admin/tokens/                                login login login 400   400   403   403   login login login login login login
admin-token-revoke             POST   /admin/tokens/{revoked_token}/revoke          login login login 409   409   403   403   login login login login login login
admin-settings                 GET    /admin/settings/                              login login login ok    403   403   403   login login login login login login
admin-settings                 POST   /admin/settings/                              login login login 400   403   403   403   login login login login login login
admin-orders                   GET    /admin/orders/                                login login login ok    ok    ok    ok    login login login login login login
admin-order                    GET    /admin/orders/{code}                          login login login ok    ok    ok    ok    login login login login login login
admin-order-note               POST   /admin/orders/{code}/note                     login login login 409   409   409   403   login login login login login login
admin-order-cancel             POST   /admin/orders/{code}/cancel                   login login login 409   409   409   403   login login login login login login
admin-order-refund             POST   /admin/orders/{code}/refund                   login login login 409   409   403   403   login login login login login login
admin-order-advance            POST   /admin/orders/{code}/fulfillment/advance      login login login 409   409   403   409   login login login login login login
admin-order-reject             POST   /admin/orders/{code}/fulfillment/reject       login login login 409   409   403   409   login login login login login login
admin-order-return             POST   /admin/orders/{rcode}/return                  login login login 409   409   409   403   login login login login login login
admin-returns                  GET    /admin/returns/                               login login login ok    ok    ok    ok    login login login login login login
admin-return                   GET    /admin/returns/{return_id}                    login login login ok    ok    ok    ok    login login login login login login
admin-return-approve           POST   /admin/returns/{return_id}/approve            login login login 409   409   409   403   login login login login login login
admin-return-reject            POST   /admin/returns/{return_id}/reject             login login login 409   409   409   403   login login login login login login
admin-return-in-transit        POST   /admin/returns/{return_id}/in-transit         login login login 409   409   409   403   login login login login login login
admin-return-receive           POST   /admin/returns/{return_id}/receive            login login login 409   409   409   403   login login login login login login
admin-return-refund            POST   /admin/returns/{return_id}/refund             login login login 409   409   409   403   login login login login login login
admin-order-edit-preview       POST   /admin/orders/{code}/edits/preview            login login login 409   409   409   403   login login login login login login
admin-order-edit-confirm       POST   /admin/orders/{code}/edits/confirm            login login login 409   409   409   403   login login login login login login
admin-order-edit-abandon       POST   /admin/orders/{code}/edits/abandon            login login login 409   409   409   403   login login login login login login
admin-inventory                GET    /admin/inventory/                             login login login ok    ok    403   403   login login login login login login
admin-inventory-sku            GET    /admin/inventory/sku/{sku}/                   login login login ok    ok    403   403   login login login login login login
admin-inventory-adjust         POST   /admin/inventory/adjust                       login login login 400   400   403   403   login login login login login login
admin-inventory-move           POST   /admin/inventory/sku/{sku}/move               login login login 400   400   403   403   login login login login login login
admin-inventory-count          POST   /admin/inventory/sku/{sku}/count              login login login 400   400   403   403   login login login login login login
admin-inventory-policy         POST   /admin/inventory/sku/{sku}/policy             login login login 400   400   403   403   login login login login login login
admin-inventory-locations      GET    /admin/inventory/locations                    login login login ok    ok    403   403   login login login login login login
admin-inventory-locations      POST   /admin/inventory/locations                    login login login 400   400   403   403   login login login login login login
admin-inventory-location       GET    /admin/inventory/locations/default            login login login ok    ok    403   403   login login login login login login
admin-inventory-location       POST   /admin/inventory/locations/default            login login login 400   400   403   403   login login login login login login
admin-inventory-location-active POST  /admin/inventory/locations/default/active     login login login 400   400   403   403   login login login login login login
admin-carts                    GET    /admin/carts/                                 login login login ok    ok    403   403   login login login login login login
admin-cart                     GET    /admin/carts/{cart_a}/                        login login login ok    ok    403   403   login login login login login login
admin-catalog                  GET    /admin/catalog/                               login login login ok    ok    403   403   login login login login login login
admin-catalog-reindex-status   GET    /admin/catalog/reindex/status                 login login login ok    ok    403   403   login login login login login login
admin-catalog-reindex          POST   /admin/catalog/reindex                        login login login ok    ok    403   403   login login login login login login
admin-ops                      GET    /admin/ops/                                   login login login ok    ok    403   403   login login login login login login
admin-ops-workflow             GET    /admin/ops/workflows/{order_workflow}         login login login ok    ok    403   403   login login login login login login
admin-temporal-codec-decode    POST   /admin/temporal-codec/decode                  401   401   401   ok    ok    403   403   403   403   403   403   403   401
admin-temporal-codec-encode    POST   /admin/temporal-codec/encode                  401   401   401   ok    ok    403   403   403   403   403   403   403   401
admin-cadences                 GET    /admin/cadences/                              login login login ok    ok    ok    403   login login login login login login
admin-cadence-new              GET    /admin/cadences/new                           login login login ok    ok    403   403   login login login login login login
admin-cadence-new              POST   /admin/cadences/new                           login login login 400   400   403   403   login login login login login login
admin-cadence                  GET    /admin/cadences/{cadence}/                    login login login ok    ok    ok    403   login login login login login login
admin-cadence-edit             GET    /admin/cadences/{cadence}/edit                login login login ok    ok    403   403   login login login login login login
admin-cadence-edit             POST   /admin/cadences/{cadence}/edit                login login login 400   400   403   403   login login login login login login
admin-cadence-enroll           POST   /admin/cadences/{cadence}/enroll              login login login 400   400   400   403   login login login login login login
admin-enrollment               GET    /admin/cadences/{cadence}/enrollments/{contact} login login login ok    ok    ok    403   login login login login login login
admin-enrollment-action        POST   /admin/cadences/{cadence}/enrollments/{contact}/pause login login login 409   409   409   403   login login login login login login
admin-unsubscribe              POST   /admin/cadences/unsubscribe                   login login login 400   400   400   403   login login login login login login
admin-webhooks                 GET    /admin/webhooks/                              login login login ok    ok    403   403   login login login login login login
admin-webhooks                 POST   /admin/webhooks/                              login login login 400   400   403   403   login login login login login login
admin-webhook                  GET    /admin/webhooks/we_nope/                      login login login 404   404   403   403   login login login login login login
admin-webhook                  POST   /admin/webhooks/we_nope/                      login login login 404   404   403   403   login login login login login login
shop-account-address-remove    POST   /shop/account/addresses/{address_a}/remove/   login ok    404   login login login login login login login login login login
shop-account-logout            POST   /shop/account/logout/                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
admin-logout                   POST   /admin/logout/                                ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
"""

COLUMNS = {"anon": "anon", "A": "A", "B": "B", "owner": "owner", "manag": "manager", "suppo": "support",
           "fulfi": "fulfillment", "t:sea": "t:search", "t:ord": "t:oread", "t:owr": "t:owrite", "t:ful": "t:ful",
           "t:cad": "t:cadences", "t:rev": "t:revoked"}


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    path: str
    expected: dict[str, str]  # principal -> outcome


def parse(table: str) -> list[Row]:
    header, *lines = [line.split() for line in table.strip().splitlines()]
    principals = [COLUMNS[c] for c in header[3:]]
    assert sorted(principals) == sorted(PRINCIPALS), "every principal has a column"
    rows = []
    for cells in lines:
        assert len(cells) == len(header), f"row {cells[0]} has {len(cells)} cells"
        rows.append(Row(cells[0], cells[1], cells[2], dict(zip(principals, cells[3:], strict=True))))
    return rows


ROWS = parse(TABLE)


# --- the routes Django serves ------------------------------------------------------------------

def route_names(patterns=None, prefix: str = "") -> dict[str, str]:
    """Every route: name -> its pattern (the pattern itself names a route without a name)."""
    found: dict[str, str] = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            found |= route_names(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            found[entry.name or pattern] = pattern
    return found


def test_every_route_is_in_the_matrix():
    served = route_names()
    missing = sorted(f"{name} ({pattern})" for name, pattern in served.items() if name not in {r.route for r in ROWS})
    assert not missing, "routes with no row in the authorization matrix:\n  " + "\n  ".join(missing)
    gone = sorted({r.route for r in ROWS} - set(served))
    assert not gone, f"matrix rows for routes that no longer exist: {gone}"


def test_each_rows_path_resolves_to_its_route():
    from django.urls import Resolver404, resolve

    for row in ROWS:
        path = urlparse(row.path.format_map(_Placeholder())).path
        try:
            name = resolve(path).url_name
        except Resolver404:
            name = None
        assert name == row.route, f"{row.method} {row.path} is not {row.route}"


class _Placeholder(dict):
    def __missing__(self, key: str) -> str:
        return "0123456789abcdef"  # fits every parameter's pattern


# --- what each row sends -------------------------------------------------------------------------

def bodies(world: dict) -> dict[tuple[str, str], dict]:
    """The body each mutating row sends: valid where the point is to get through."""
    wrong_email = {"email": "someone-else@example.com", "confirmation_code": world["code"]}
    line = world["return_line"]
    too_many = {"lines": [{"line_id": line, "quantity": 99, "reason": "other"}]}
    address = {**SHIPPING, "label": "Home"}
    return {
        ("api-cart-items", "POST"): {"variant_id": world["variant"], "quantity": 1},
        ("api-cart-item", "PATCH"): {"quantity": 1},
        ("api-cart-coupon", "POST"): {"code": "NO-SUCH-COUPON"},
        ("api-checkout-shipping", "PUT"): SHIPPING,
        ("api-checkout-payment", "PUT"): {"token": "tok_success"},
        ("api-orders-lookup", "POST"): wrong_email,
        ("api-order-cancel", "POST"): {"reason": "matrix"},
        ("api-order-feedback", "POST"): {"rating": 5, "comment": "matrix"},
        ("api-staff-cancel", "POST"): {"reason": "matrix"},
        ("api-staff-refund", "POST"): {"reason": "matrix"},
        ("api-staff-note", "POST"): {"text": "matrix note"},
        ("api-staff-advance", "POST"): {"to": "in_production"},
        # a return of A's delivered order, rejected before the table runs: every allowed step meets a 409,
        # and opening asks for more units than the order has
        ("api-order-returns", "POST"): too_many,
        ("api-return-tracking", "POST"): {"tracking_number": "1Z999AA10123456784"},
        ("api-staff-order-returns", "POST"): too_many,
        ("api-staff-return-approve", "POST"): {"note": "matrix"},
        ("api-staff-return-reject", "POST"): {"reason": "matrix"},
        ("api-staff-return-in-transit", "POST"): {"tracking_number": "1Z999AA10123456784"},
        ("api-staff-return-receive", "POST"): {"restock": "all"},
        ("shop-order-return", "POST"): {f"qty:{line}": "99", f"reason:{line}": "other"},
        ("shop-return-tracking", "POST"): {"tracking_number": "1Z999AA10123456784"},
        ("admin-order-return", "POST"): {f"return_qty:{line}": "99", f"return_reason:{line}": "other"},
        ("admin-return-approve", "POST"): {"note": "matrix"},
        ("admin-return-reject", "POST"): {"reason": "matrix"},
        ("admin-return-in-transit", "POST"): {"tracking_number": "1Z999AA10123456784"},
        ("admin-return-receive", "POST"): {f"restock:{line}": "1"},
        ("api-order-edit-preview", "POST"): {"shipping_address": SHIPPING},
        ("api-order-edit-confirm", "POST"): {"edit_id": "matrix-edit-1"},
        ("api-staff-edit-preview", "POST"): {"shipping_address": SHIPPING},
        ("api-staff-edit-confirm", "POST"): {"edit_id": "matrix-edit-1"},
        ("shop-cart-add", "POST"): {"variant_id": world["page_variant"], "quantity": "1"},
        ("shop-cart-change", "POST"): {"action": "update", "line_id": "nope", "quantity": "1"},
        ("shop-checkout-action", "POST"): {"action": "cancel"},
        ("shop-orders-lookup", "POST"): wrong_email,
        ("shop-order-cancel", "POST"): {"reason": "matrix"},
        ("shop-order-feedback", "POST"): {"rating": "5", "comment": "matrix"},
        ("shop-order-address", "POST"): {k: v for k, v in SHIPPING.items() if k != "email"},
        ("shop-account-profile", "POST"): {"name": "Matrix Shopper"},
        ("shop-account-reset", "POST"): {"email": "nobody-here@example.com"},
        ("shop-account-address", "POST"): address,
        ("admin-staff-change", "POST"): {"action": "role", "role": "support"},
        ("admin-order-note", "POST"): {"text": "matrix note"},
        ("admin-order-cancel", "POST"): {"reason": "matrix"},
        ("admin-order-edit-preview", "POST"): {"reason": "matrix", "change_address": "on", **{
            k: v for k, v in SHIPPING.items() if k != "email"}},
        ("admin-order-edit-confirm", "POST"): {"edit_id": "matrix-edit-1"},
        ("admin-order-refund", "POST"): {"scope": "all", "reason": "matrix"},
        ("admin-order-advance", "POST"): {"supplier_order": world["supplier_order"], "to": "in_production"},
        ("admin-order-reject", "POST"): {"supplier_order": world["supplier_order"], "reason": "matrix"},
        ("api-staff-enrollment-action", "POST"): {"reason": "matrix"},
        ("api-staff-unsubscribes", "POST"): {"email": "not-an-address"},
        ("api-staff-cadence-enrollments", "POST"): {"contacts": [{"email": "not-an-address"}]},
        ("admin-unsubscribe", "POST"): {"email": "not-an-address"},
        ("admin-temporal-codec-decode", "POST"): PLAIN_PAYLOADS,
        ("admin-temporal-codec-encode", "POST"): PLAIN_PAYLOADS,
    }


# Temporal's remote codec protocol: one JSON payload, as the UI would send it (base64 fields)
PLAIN_PAYLOADS = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJhIjoxfQ=="}]}
JSON_PATHS = ("/api/", "/admin/temporal-codec/")  # JSON bodies; the rest are the pages' forms


def send(who: Principal, row: Row, world: dict, body: dict | None):
    path, _, cart = row.path.partition("#")  # `#cart_x`: the call names that cart in X-Cart-Id
    path = path.format_map(world)
    method = row.method.lower()
    headers = {"HTTP_X_CART_ID": world[cart]} if cart else {}
    if path.startswith(JSON_PATHS):  # JSON, with the CSRF token in the header as the shop's pages send it
        if method == "get":
            return who.client.get(path, **headers)
        return getattr(who.client, method)(path, body or {}, content_type="application/json",
                                           HTTP_X_CSRFTOKEN=who.csrf, **headers)
    if method == "get":
        return who.client.get(path)
    return who.client.post(path, {**(body or {}), "csrfmiddlewaretoken": who.csrf})


def outcome(response, path: str) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        login = "/admin/login/" if path.startswith("/admin/") else "/shop/account/login/"
        return "login" if response["Location"].startswith(f"{login}?next=") else "ok"
    if status == 403 and (b"CSRF verification failed" in response.content or b"csrf_failed" in response.content):
        return "csrf"  # never expected in the table: a 403 there is the role or scope saying no
    return "ok" if 200 <= status < 300 else str(status)


# --- the world the table runs in -------------------------------------------------------------------

def _fulfillment_tree(order_id: str, seconds: float = 30):
    """The order's fulfillment tree, once the order has been routed to its supplier."""
    from domains.fulfillment.errors import FulfillmentError
    from storefront import services

    deadline = time.monotonic() + seconds
    while True:
        try:
            tree = services.temporal().run(lambda client: fulfillment.tree(client, order_id))
        except FulfillmentError:  # not started yet
            tree = None
        if tree is not None and tree.supplier_orders:
            return tree
        assert time.monotonic() < deadline, f"order {order_id} was not routed to a supplier"
        time.sleep(0.1)


def build_world(shop, small_catalog, principals: dict[str, Principal]) -> dict:
    """A's order (placed on A's other device, then cancelled by A), A's saved address, and
    the ids the table's paths name."""
    from domains.identity import reads
    from domains.orders.ids import order_workflow_id
    from storefront import services

    available = [v for v in small_catalog.variants if v.available]
    variant, page_variant = available[0], next(v for v in available[1:] if v.id != available[0].id)
    a = principals["A"]
    phone = sign_in("/shop/account/login/", a.email)
    phone.defaults["HTTP_X_CSRFTOKEN"] = phone.cookies["csrftoken"].value  # as the shop's own pages send it
    placed = place(phone, variant.id)
    code, order_id = placed["confirmation_code"], placed["order_id"]
    cart_a = phone.cookies["cart_id"].value
    # its supplier order first (the rows name it): cancelled before routing, it would never have one
    tree = _fulfillment_tree(order_id)
    cancelled = phone.post(f"/api/orders/{code}/cancel", {"reason": "matrix"}, content_type="application/json")
    assert cancelled.status_code == 200, cancelled.content
    returned = _rejected_return(phone, variant.id)
    saved = a.client.post("/shop/account/addresses/new/", {**SHIPPING, "label": "Home", "csrfmiddlewaretoken": a.csrf})
    assert saved.status_code == 302, saved.content.decode()[:300]
    (address,) = reads.shopper(services.store(), a.account_id).addresses
    # an open cart of A's, started on a third device of A's: the `#cart_a_open` rows name it
    tablet = sign_in("/shop/account/login/", a.email)
    started = tablet.post("/api/cart/items", {"variant_id": variant.id, "quantity": 1},
                          content_type="application/json", HTTP_X_CSRFTOKEN=tablet.cookies["csrftoken"].value)
    assert started.status_code == 201 and started.json()["shopper_id"] == a.account_id, started.content
    cadence, contact = _ended_enrollment()
    return {"code": code, "order_id": order_id, "variant": variant.id, "page_variant": page_variant.id,
            "product": variant.product_id, "cart_a": cart_a, "cart_a_open": started.json()["id"],
            "shopper_a": a.account_id,
            "address_a": address.address_id, "staff_support": principals["support"].account_id,
            "revoked_token": principals["t:revoked"].account_id, "sku": variant.blank_sku,
            "supplier_order": tree.supplier_orders[0].supplier_order_id,
            "order_workflow": order_workflow_id(order_id), "cadence": cadence, "contact": contact,
            "unsubscribe_token": email_links.unsubscribe_token("matrix-unsubscribe@example.com"), **returned}


def _rejected_return(browser: Client, variant_id: str, seconds: float = 60) -> dict:
    """A second order of A's, delivered, with a return A opened and staff rejected: the table's
    return rows name it (`rcode`, `return_id`, `return_line`), and every allowed step on it meets
    a 409 without changing what a later row sees."""
    from domains.orders import client as orders
    from storefront import return_staff, services

    services.store().put("settings", {"name": "fulfillment", "value": {"stage_seconds": 0}, "updated_by": "test"})
    placed = place(browser, variant_id, quantity=1)
    deadline = time.monotonic() + seconds
    while services.call(orders.get_order, services.store(), placed["order_id"]).status not in (
            OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        assert time.monotonic() < deadline, "the matrix's second order was never delivered"
        time.sleep(0.2)
    code = placed["confirmation_code"]
    line = browser.get(f"/api/orders/{code}").json()["lines"][0]["line_id"]
    opened = browser.post(f"/api/orders/{code}/returns", {"lines": [{"line_id": line, "quantity": 1,
                                                                      "reason": "other"}]},
                          content_type="application/json")
    assert opened.status_code == 201, opened.content
    rejected = return_staff.reject(opened.json()["id"], "staff:matrix@example.com", "owner", "matrix")
    assert rejected.status.value == "rejected"
    return {"rcode": code, "return_id": rejected.return_id, "return_line": line}


def _ended_enrollment() -> tuple[str, str]:
    """A cadence and a contact whose enrollment in it was cancelled: every allowed action on it
    meets a 409, and no row changes what a later one sees."""
    from domains.cadences import client as cadences
    from domains.cadences.messages import SaveCadence
    from domains.cadences.steps import Step, StepType
    from storefront import services

    saved = services.temporal().run(lambda client: cadences.save_cadence(client, SaveCadence(
        name="Matrix", steps=[Step(type=StepType.WAIT, seconds=3600)], actor="test")))
    cadence = saved.definition.cadence_id
    contact = cadences.contact_of("matrix-enrolled@example.com")
    services.temporal().run(lambda client: cadences.enroll(client, services.store(), cadence, contact, actor="test"))
    services.temporal().run(lambda client: cadences.cancel(client, cadence, contact.contact_id, "test"))
    return cadence, contact.contact_id


@pytest.fixture
async def matrix_world(orders_web, small_catalog):
    from domains.catalog.ids import REINDEX_WORKFLOW_ID

    # The reindex rows start the shop's one rebuild workflow (the harness runs no catalog
    # worker, so it waits in this test's namespace), ended afterwards.
    principals = await run(everyone, orders_web)
    world = await run(build_world, orders_web, small_catalog, principals)
    await until(orders_web, world["order_id"], lambda v: v.status == OrderStatus.CANCELLED)
    try:
        yield principals, world
    finally:
        with contextlib.suppress(RPCError):  # not started (a row failed first) or already ended
            await orders_web.client.get_workflow_handle(REINDEX_WORKFLOW_ID).terminate("authorization matrix done")


async def test_every_route_against_every_principal(matrix_world):
    principals, world = matrix_world

    def walk() -> list[str]:
        sent = bodies(world)
        wrong = []
        for row in ROWS:
            for name, want in row.expected.items():
                response = send(principals[name], row, world, sent.get((row.route, row.method)))
                got = outcome(response, row.path)
                if got != want:
                    detail = response.content.decode(errors="replace")[:160].replace("\n", " ")
                    wrong.append(f"{row.method:6} {row.path:45} {name:11} want {want:5} got {got:5} "
                                 f"({response.status_code} {response.get('Location', '')} {detail})")
        return wrong

    wrong = await run(walk)
    assert not wrong, f"{len(wrong)} cells differ from the matrix:\n" + "\n".join(wrong)


# --- CSRF, carts, the command line -----------------------------------------------------------------

async def test_a_post_without_the_csrf_token_is_refused(orders_web):
    """The same forms as above, minus the token a page would have put in them: refused, and
    nothing happened."""
    from domains.identity import reads

    def attempt():
        from ..web.accounts import create_shopper, create_staff, new_email

        owner = create_staff(orders_web, "owner")
        browser = sign_in("/admin/login/", owner.email)
        newcomer = {"email": new_email("newcomer"), "name": "New", "role": "support", "password": PASSWORD}
        forged = browser.post("/admin/staff/", newcomer)
        assert forged.status_code == 403 and "CSRF" in forged.content.decode()
        assert reads.staff_by_email(orders_web.store, newcomer["email"]) is None
        token = browser.cookies["csrftoken"].value
        assert browser.post("/admin/staff/", {**newcomer, "csrfmiddlewaretoken": token}).status_code == 302
        assert reads.staff_by_email(orders_web.store, newcomer["email"]) is not None
        assert browser.post("/admin/logout/").status_code == 403
        assert browser.get("/admin/staff/").status_code == 200  # still signed in

        shopper = create_shopper(orders_web, name="Before")
        shop_browser = sign_in("/shop/account/login/", shopper.email)
        assert shop_browser.post("/shop/account/profile/", {"name": "After"}).status_code == 403
        assert reads.shopper(orders_web.store, shopper.shopper_id).name == "Before"
        assert shop_browser.post("/shop/account/logout/").status_code == 403
        assert shop_browser.get("/shop/account/").status_code == 200

        # signing in is a form too: no signing a victim's browser in to the attacker's account
        stranger = Client(enforce_csrf_checks=True)
        assert stranger.post("/admin/login/", {"email": owner.email, "password": PASSWORD}).status_code == 403
        assert stranger.post("/shop/account/login/", {"email": shopper.email, "password": PASSWORD}).status_code == 403

    await run(attempt)


async def test_shopper_b_never_sees_shopper_as_cart(orders_web, small_catalog):
    variant = next(v for v in small_catalog.variants if v.available)
    product = next(p for p in small_catalog.products if p.id == variant.product_id)

    def visit():
        from ..web.accounts import create_shopper

        a = sign_in("/shop/account/login/", create_shopper(orders_web).email)
        b = sign_in("/shop/account/login/", create_shopper(orders_web).email)
        a.defaults["HTTP_X_CSRFTOKEN"] = a.cookies["csrftoken"].value  # as the shop's own pages send it
        added = a.post("/api/cart/items", {"variant_id": variant.id, "quantity": 1}, content_type="application/json")
        assert added.status_code == 201
        assert [li["variant_id"] for li in a.get("/api/cart").json()["lines"]] == [variant.id]
        assert a.post("/api/checkout").status_code == 201

        seen = b.get("/api/cart").json()
        assert seen["id"] is None and seen["lines"] == []
        assert b.get("/api/checkout").status_code == 404
        assert product.name not in b.get("/shop/cart").content.decode()
        assert b.get("/shop/checkout")["Location"] == "/shop/cart"

        # A signs out on a shared computer: the next person there starts with no cart
        token = a.cookies["csrftoken"].value
        assert a.post("/shop/account/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
        assert a.get("/api/cart").json()["lines"] == []
        assert product.name not in a.get("/shop/cart").content.decode()

    await run(visit)


async def test_another_shoppers_cart_id_answers_like_an_unknown_one(orders_web, small_catalog):
    """B holding A's cart id (in the cookie or in X-Cart-Id) gets what an id never used gets,
    on the API and on the pages, and A's cart and checkout stay exactly as A left them."""
    first, second = [v for v in small_catalog.variants if v.available][:2]
    product = next(p for p in small_catalog.products if p.id == first.product_id)

    def visit():
        from ..web.accounts import create_shopper

        a = sign_in("/shop/account/login/", create_shopper(orders_web).email)
        b = sign_in("/shop/account/login/", create_shopper(orders_web).email)
        a.defaults["HTTP_X_CSRFTOKEN"] = a.cookies["csrftoken"].value  # as the shop's own pages send it
        b.defaults["HTTP_X_CSRFTOKEN"] = b.cookies["csrftoken"].value
        assert a.post("/api/cart/items", {"variant_id": first.id, "quantity": 1},
                      content_type="application/json").status_code == 201
        assert a.post("/api/checkout").status_code == 201
        cart_a = a.cookies["cart_id"].value
        before = a.get("/api/checkout").json()
        unknown = b.get("/api/cart", HTTP_X_CART_ID=uuid.uuid4().hex)
        assert unknown.status_code == 404

        as_header = {"HTTP_X_CART_ID": cart_a}
        for response in (b.get("/api/cart", **as_header), b.get("/api/checkout", **as_header),
                         b.post("/api/cart/items", {"variant_id": second.id, "quantity": 1},
                                content_type="application/json", **as_header),
                         b.delete("/api/checkout", **as_header),
                         b.put("/api/checkout/shipping", SHIPPING, content_type="application/json", **as_header),
                         b.post("/api/checkout/submit", **as_header)):
            assert (response.status_code, response.json()) == (404, unknown.json())
        anon = Client()  # a guest with the id: the same
        assert anon.get("/api/cart", **as_header).status_code == 404

        b.cookies["cart_id"] = cart_a  # A's id in B's cookie: the pages show no cart and start a new one
        assert product.name not in b.get("/shop/cart").content.decode()
        assert b.get("/shop/checkout")["Location"] == "/shop/cart"
        b.post("/shop/checkout/action", {"action": "cancel", "csrfmiddlewaretoken": b.cookies["csrftoken"].value})
        added = b.post("/shop/cart/add", {"variant_id": second.id, "quantity": "1",
                                         "csrfmiddlewaretoken": b.cookies["csrftoken"].value})
        assert added.status_code == 302 and b.cookies["cart_id"].value != cart_a

        after = a.get("/api/checkout").json()
        assert (after["step"], after["lines"], after["shipping_address"]) == \
            (before["step"], before["lines"], before["shipping_address"])
        assert [li["variant_id"] for li in a.get("/api/cart").json()["lines"]] == [first.id]

    await run(visit)


async def test_the_fulfillment_command_asks_the_role_table(orders_web):
    """`manage.py fulfillment ACTION --staff EMAIL`: exit 4 when that person may not, else the
    command goes on (and, for an order that does not exist, exits 3)."""
    from django.core.management import CommandError, call_command

    from ..web.accounts import create_shopper, create_staff

    def exit_code(*args: str) -> int:
        try:
            call_command("fulfillment", *args)
        except CommandError as exc:
            return exc.returncode
        return 0

    def check() -> dict:
        staff = {role: create_staff(orders_web, role).email for role in ("owner", "manager", "support", "fulfillment")}
        shopper = create_shopper(orders_web).email
        got = {}
        for who, email in [*staff.items(), ("shopper", shopper), ("stranger", "nobody@example.com")]:
            got[who] = (exit_code("show", "NOSUCHORDER", "--staff", email),
                        exit_code("advance", "NOSUCHORDER", "--to", "in_production", "--staff", email),
                        exit_code("cancel", "NOSUCHORDER", "--staff", email))
        got["nobody"] = (exit_code("show", "NOSUCHORDER", "--staff", ""),)
        return got

    got = await run(check)
    #                 show advance cancel   (3: allowed, no such order; 4: not allowed)
    assert got == {"owner":       (3, 3, 3),
                   "manager":     (3, 3, 3),
                   "support":     (3, 4, 3),
                   "fulfillment": (3, 3, 4),
                   "shopper":     (4, 4, 4),
                   "stranger":    (4, 4, 4),
                   "nobody":      (4,)}


@pytest.mark.parametrize(("email", "password", "says"), [
    ("not-an-email", PASSWORD, "not an email address"),
    ("new-owner@example.com", "password", "password refused"),
    ("new-owner@example.com", "12345678901", "password refused"),
    ("new-owner@example.com", "new-owner@example.com", "password refused"),
])
def test_createstaff_refuses_bad_emails_and_weak_passwords(email, password, says):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=says):
        call_command("createstaff", email, role="owner", password=password)


def test_createstaff_refuses_an_unknown_role():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="invalid choice"):
        call_command("createstaff", "x@example.com", "--role", "superuser", "--password", PASSWORD)
