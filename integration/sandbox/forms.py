from django import forms

from integration.sandbox.models import SandboxFaults

SHARE = {"min_value": 0, "max_value": 1, "decimal_places": 3}


class FaultsForm(forms.Form):
    latency_ms = forms.IntegerField(min_value=0, max_value=60_000, label="Added latency (ms)")
    rate_limit_share = forms.DecimalField(label="Share of requests answered 429", **SHARE)
    retry_after_seconds = forms.DecimalField(
        min_value=0, max_value=600, decimal_places=2, label="Retry-After sent with a 429 (seconds)"
    )
    server_error_share = forms.DecimalField(label="Share of requests answered 502 (HTML page)", **SHARE)
    commit_timeout_share = forms.DecimalField(label="Share of writes that commit, then never answer", **SHARE)
    user_error_codes = forms.CharField(
        required=False,
        label="Product codes Fulfil refuses (comma-separated)",
        widget=forms.TextInput(attrs={"placeholder": "e.g. TEE-CRW-BLK-M, MUG-ENM-RED"}),
    )
    tax_rounding = forms.ChoiceField(choices=SandboxFaults.TaxRounding.choices, label="Tax rounding")
    seed = forms.IntegerField(label="Random seed")

    def clean_user_error_codes(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["user_error_codes"].split(",") if c.strip()]
