from django.shortcuts import render

from accounts.roles import ADMIN, OPS, role_required
from mappings.models import FulfilProduct, FulfilWarehouse, LocationMap, SkuMap, TaxMap, TenderMap


@role_required(OPS, ADMIN)
def index(request):
    counts = {
        "Location maps": LocationMap.objects.count(),
        "SKU maps": SkuMap.objects.count(),
        "Tax maps": TaxMap.objects.count(),
        "Tender maps": TenderMap.objects.count(),
        "Fulfil warehouses cached": FulfilWarehouse.objects.count(),
        "Fulfil products cached": FulfilProduct.objects.count(),
    }
    return render(request, "mappings/index.html", {"counts": counts})
