"""Every admin panel route; each domain's subpackage lists its own in its `urls.py`."""

from .cadences import urls as cadences
from .carts import urls as carts
from .catalog import urls as catalog
from .common import urls as common
from .dashboard import urls as dashboard
from .identity import urls as identity
from .inventory import urls as inventory
from .ops import urls as ops
from .orders import urls as orders
from .returns import urls as returns
from .webhooks import urls as webhooks

urlpatterns = [
    *dashboard.urlpatterns,
    *common.urlpatterns,
    *identity.urlpatterns,
    *orders.urlpatterns,
    *returns.urlpatterns,
    *inventory.urlpatterns,
    *carts.urlpatterns,
    *catalog.urlpatterns,
    *ops.urlpatterns,
    *cadences.urlpatterns,
    *webhooks.urlpatterns,
]
