"""Create and edit forms for maps. They only validate input; the services make the change."""

from django import forms

from mappings.models import (
    FulfilChannel,
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
    LocationMap,
    SkuMap,
    TaxMap,
    TenderMap,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FIELDS = ("effective_from", "effective_to")


class MapForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in DATE_FIELDS:
            self.fields[name].widget = DATE

    def service_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class LocationMapForm(MapForm):
    warehouse = forms.ModelChoiceField(
        queryset=FulfilWarehouse.objects.filter(active=True), label="Fulfil warehouse"
    )
    channel = forms.ModelChoiceField(
        queryset=FulfilChannel.objects.filter(active=True), required=False, label="Fulfil channel"
    )

    class Meta:
        model = LocationMap
        fields = (
            "source",
            "pos_location_id",
            "pos_location_name",
            "register_id",
            "warehouse",
            "storage_location_id",
            "channel",
            *DATE_FIELDS,
        )
        labels = {
            "pos_location_id": "POS location id",
            "pos_location_name": "Store name",
            "register_id": "Till",
        }


class ProductCodeField(forms.CharField):
    """A product picked by its Fulfil code: the catalog is too large for a drop-down."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        product = FulfilProduct.objects.filter(code=value).order_by("-active", "id").first()
        if product is None:
            raise forms.ValidationError(f"No Fulfil product has the code '{value}' in the catalog cache.")
        return product

    def prepare_value(self, value):
        if isinstance(value, int):
            value = FulfilProduct.objects.filter(pk=value).first()
        return value.code if isinstance(value, FulfilProduct) else value


class SkuMapForm(MapForm):
    product = ProductCodeField(label="Fulfil product code")
    # A number box, not a drop-down: there can be tens of thousands of SKU maps.
    superseded_by = forms.ModelChoiceField(
        queryset=SkuMap.objects.all(),
        required=False,
        widget=forms.NumberInput,
        label="Replaced by (number of the newer SKU map)",
    )

    class Meta:
        model = SkuMap
        fields = ("source", "key_type", "pos_key", "product", "superseded_by", "note", *DATE_FIELDS)
        labels = {"pos_key": "POS SKU / id / barcode"}

    def clean_superseded_by(self):
        newer = self.cleaned_data.get("superseded_by")
        if newer and self.instance.pk and newer.pk == self.instance.pk:
            raise forms.ValidationError("A map cannot replace itself.")
        return newer

    def clean(self):
        cleaned = super().clean()
        newer, source = cleaned.get("superseded_by"), cleaned.get("source")
        if newer and source and newer.source_id != source.pk:
            self.add_error("superseded_by", "The newer map must belong to the same POS source.")
        return cleaned


class TaxMapForm(MapForm):
    tax = forms.ModelChoiceField(queryset=FulfilTax.objects.filter(active=True), label="Fulfil tax")

    class Meta:
        model = TaxMap
        fields = ("source", "pos_tax_title", "rate", "tax", *DATE_FIELDS)
        labels = {"pos_tax_title": "POS tax title", "rate": "Rate (a fraction: 0.2 is 20 %)"}


class TenderMapForm(MapForm):
    gateway = forms.ModelChoiceField(
        queryset=FulfilGateway.objects.filter(active=True), label="Fulfil payment gateway"
    )

    class Meta:
        model = TenderMap
        fields = ("source", "pos_tender", "gateway", *DATE_FIELDS)
        labels = {"pos_tender": "POS tender or gateway name"}


class EndDateForm(forms.Form):
    effective_to = forms.DateField(label="Last day this map applies", widget=DATE)
    note = forms.CharField(required=False, max_length=500, label="Why (kept in the history)")


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="The same columns as the export.")
    apply = forms.BooleanField(required=False, label="Apply if every row is good (otherwise a dry run)")

    def text(self) -> str:
        raw = self.cleaned_data["file"].read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text. Save it as CSV UTF-8.") from exc


FORMS = {"locations": LocationMapForm, "skus": SkuMapForm, "taxes": TaxMapForm, "tenders": TenderMapForm}
