from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from .admin_panel import views as admin_views
from .api import search as search_api
from .health import healthz
from .shop import browse

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/search", search_api.SearchView.as_view(), name="api-search"),
    path("api/products/<str:product_id>", search_api.ProductView.as_view(), name="api-product"),
    path("shop/", browse.search_page, name="shop"),
    path("shop/products/<str:product_id>", browse.product_page, name="shop-product"),
    path("shop/img/<slug:kind>/<str:hex6>/<str:side>.svg", browse.garment_image, name="garment-image"),
    path("admin/", admin_views.dashboard, name="admin-dashboard"),
]
