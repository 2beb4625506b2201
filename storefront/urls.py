from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import error_pages
from .api import cart as cart_api
from .api import order_edits, payment_webhooks, staff_api, webhooks_api
from .api import orders as orders_api
from .api import search as search_api
from .health import healthz
from .observability import metrics
from .shop import browse, cart_pages, order_pages

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),  # Prometheus; a token or loopback (docs/observability.md)
    path("favicon.ico", error_pages.favicon, name="favicon"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/search", search_api.SearchView.as_view(), name="api-search"),
    path("api/products/<str:product_id>", search_api.ProductView.as_view(), name="api-product"),
    path("api/cart", cart_api.CartView.as_view(), name="api-cart"),
    path("api/cart/items", cart_api.CartItemsView.as_view(), name="api-cart-items"),
    path("api/cart/items/<str:line_id>", cart_api.CartItemView.as_view(), name="api-cart-item"),
    path("api/cart/coupon", cart_api.CouponView.as_view(), name="api-cart-coupon"),
    path("api/checkout", cart_api.CheckoutView.as_view(), name="api-checkout"),
    path("api/checkout/shipping", cart_api.ShippingView.as_view(), name="api-checkout-shipping"),
    path("api/checkout/payment", cart_api.PaymentView.as_view(), name="api-checkout-payment"),
    path("api/checkout/submit", cart_api.SubmitView.as_view(), name="api-checkout-submit"),
    path("api/orders", orders_api.OrdersView.as_view(), name="api-orders"),
    path("api/payments/webhooks/stripe", payment_webhooks.stripe_webhook, name="api-payments-stripe-webhook"),
    path("api/orders/lookup", orders_api.LookupView.as_view(), name="api-orders-lookup"),
    path("api/orders/<str:confirmation>", orders_api.OrderDetailView.as_view(), name="api-order"),
    path("api/orders/<str:confirmation>/cancel", orders_api.CancelOrderView.as_view(), name="api-order-cancel"),
    path("api/orders/<str:confirmation>/feedback", orders_api.FeedbackView.as_view(), name="api-order-feedback"),
    path("api/orders/<str:confirmation>/edits/preview", order_edits.PreviewEditView.as_view(),
         name="api-order-edit-preview"),
    path("api/orders/<str:confirmation>/edits/confirm", order_edits.ConfirmEditView.as_view(),
         name="api-order-edit-confirm"),
    path("api/orders/<str:confirmation>/edits/abandon", order_edits.AbandonEditView.as_view(),
         name="api-order-edit-abandon"),
    path("api/staff/orders/<str:reference>", staff_api.StaffOrderView.as_view(), name="api-staff-order"),
    path("api/staff/orders/<str:reference>/cancel", staff_api.StaffCancelView.as_view(), name="api-staff-cancel"),
    path("api/staff/orders/<str:reference>/refund", staff_api.StaffRefundView.as_view(), name="api-staff-refund"),
    path("api/staff/orders/<str:reference>/notes", staff_api.StaffNoteView.as_view(), name="api-staff-note"),
    path("api/staff/orders/<str:reference>/fulfillment", staff_api.StaffAdvanceView.as_view(),
         name="api-staff-advance"),
    path("api/staff/orders/<str:reference>/edits/preview", order_edits.StaffPreviewEditView.as_view(),
         name="api-staff-edit-preview"),
    path("api/staff/orders/<str:reference>/edits/confirm", order_edits.StaffConfirmEditView.as_view(),
         name="api-staff-edit-confirm"),
    path("api/staff/orders/<str:reference>/edits/abandon", order_edits.StaffAbandonEditView.as_view(),
         name="api-staff-edit-abandon"),
    path("api/staff/", include("storefront.api.cadence_urls")),
    path("api/staff/", include("storefront.api.webhook_urls")),
    path("api/webhooks/schema.json", webhooks_api.events_schema, name="api-webhooks-schema"),
    path("shop/", include("storefront.shop.email_link_urls")),
    path("shop/", browse.search_page, name="shop"),
    path("shop/products/<str:product_id>", browse.product_page, name="shop-product"),
    path("shop/cart", cart_pages.cart_page, name="shop-cart"),
    path("shop/cart/add", cart_pages.add_to_cart, name="shop-cart-add"),
    path("shop/cart/change", cart_pages.cart_change, name="shop-cart-change"),
    path("shop/checkout", cart_pages.checkout_page, name="shop-checkout"),
    path("shop/checkout/action", cart_pages.checkout_action, name="shop-checkout-action"),
    path("shop/orders/", order_pages.orders_page, name="shop-orders"),
    path("shop/orders/lookup", order_pages.lookup, name="shop-orders-lookup"),
    path("shop/orders/<str:confirmation>", order_pages.order_page, name="shop-order"),
    path("shop/orders/<str:confirmation>/cancel", order_pages.cancel, name="shop-order-cancel"),
    path("shop/orders/<str:confirmation>/feedback", order_pages.feedback, name="shop-order-feedback"),
    path("shop/orders/<str:confirmation>/address", order_pages.change_address, name="shop-order-address"),
    path("shop/img/<slug:kind>/<str:hex6>/<str:side>.svg", browse.garment_image, name="garment-image"),
    path("shop/account/", include("storefront.accounts.shopper_urls")),
    path("admin/", include("storefront.admin_panel.urls")),
]
handler404 = "storefront.error_pages.page_not_found"  # the shop's or the admin's layout; JSON under /api/
handler500 = "storefront.error_pages.server_error"  # outages of the store or index are 503s
