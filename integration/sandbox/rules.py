"""Fulfil's business rules the sandbox enforces, and how it computes a sale's amounts and taxes.

Mixed into `store.Env`; kept apart so the store stays about storage.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from integration.sandbox.errors import SandboxUserError
from integration.sandbox.models import SandboxFaults, SandboxRecord
from integration.sandbox.schema import MODELS

CENT = Decimal("0.01")
WRITABLE_AFTER_DRAFT = {"sale.sale": {"comment", "reference", "description", "shipment_state"}}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def duplicate_message(model: str, identifier: Any) -> str:
    what = "Sale" if model == "sale.sale" else "Sale line"
    return f"{what} with Order ID {identifier} already exists"


class SaleRules:
    """Needs `browse`, `get`, `children`, `rec_name` and `faults` from the Env it is mixed into."""

    def line_amount(self, line: dict) -> Decimal:
        quantity = Decimal(str(line.get("quantity") or 0))
        return money(quantity * Decimal(str(line.get("unit_price") or 0)))

    def line_tax(self, line: dict) -> Decimal:
        """Unrounded tax of one line: rate times amount (percentage taxes), amount times quantity (fixed)."""
        total = Decimal("0")
        amount = self.line_amount(line)
        for tax in self.browse("account.tax", line.get("taxes") or []):
            if tax.get("type", "percentage") == "percentage":
                total += amount * Decimal(str(tax.get("rate") or 0))
            elif tax.get("type") == "fixed":
                total += Decimal(str(tax.get("amount") or 0)) * Decimal(str(line.get("quantity") or 0))
        return total

    def sale_amounts(self, sale: dict) -> dict[str, Decimal]:
        lines = [ln for ln in self.children("sale.line", [sale["id"]]) if ln.get("type", "line") == "line"]
        untaxed = sum((self.line_amount(ln) for ln in lines), Decimal("0.00"))
        if self.faults.tax_rounding == SandboxFaults.TaxRounding.ORDER:
            tax = money(sum((self.line_tax(ln) for ln in lines), Decimal("0")))
        else:
            tax = sum((money(self.line_tax(ln)) for ln in lines), Decimal("0.00"))
        untaxed, tax = money(untaxed), money(tax)
        return {"untaxed_amount": untaxed, "tax_amount": tax, "total_amount": untaxed + tax}

    def _check_create(self, model: str, data: dict) -> None:
        identifier = data.get("channel_identifier")
        if (
            MODELS[model].unique_channel_identifier
            and identifier
            and SandboxRecord.objects.filter(model=model, channel_identifier=identifier).exists()
        ):
            raise SandboxUserError(duplicate_message(model, identifier))
        # Like Fulfil's foreign keys: a many-to-one must name a record that exists (a walk-in party
        # deleted in Fulfil makes every sale that still names it fail, which the engine must handle).
        for name, fld in MODELS[model].fields.items():
            if fld.type == "many2one" and fld.relation and data.get(name) not in (None, "", False):
                self.get(fld.relation, int(data[name]))
        if model == "sale.line":
            self._require_draft_sale(data.get("sale"))
            self._check_product_allowed(data.get("product"))
        if model == "sale.sale" and data.get("state", "draft") != "draft":
            raise SandboxUserError(
                "A sale is created in draft; use quote, confirm and process to move it on."
            )

    def _check_write(self, model: str, record: dict, vals: dict) -> None:
        if "state" in vals and model == "sale.sale":
            raise SandboxUserError("The state of a sale changes through quote, confirm, process and cancel.")
        if model == "sale.sale" and record.get("state") != "draft":
            locked = set(vals) - WRITABLE_AFTER_DRAFT["sale.sale"]
            if locked:
                raise SandboxUserError(
                    f'Sale "{self.rec_name(model, record)}" is not in draft: '
                    f"{', '.join(sorted(locked))} can no longer be changed."
                )
        if (
            model == "sale.sale"
            and "channel" in vals
            and vals["channel"] != record.get("channel")
            and self.children("sale.line", [record["id"]])
        ):
            raise SandboxUserError("The channel of a sale cannot be changed once it has lines.")
        if model == "sale.line":
            self._require_draft_sale(record.get("sale"))
            if "product" in vals:
                self._check_product_allowed(vals["product"])

    def _require_draft_sale(self, sale_id: int | None) -> None:
        if not sale_id:
            return
        sale = self.get("sale.sale", int(sale_id))
        if sale.get("state") != "draft":
            raise SandboxUserError(
                f'The lines of sale "{self.rec_name("sale.sale", sale)}" can only be changed in draft.'
            )

    def _check_product_allowed(self, product_id: int | None) -> None:
        if not product_id:
            return
        product = self.get("product.product", int(product_id))
        refused = {str(c).strip().upper() for c in (self.faults.user_error_codes or [])}
        if str(product.get("code", "")).upper() in refused:
            raise SandboxUserError(f'Product "{self.rec_name("product.product", product)}" cannot be sold.')
        if not product.get("active", True):
            raise SandboxUserError(f'Product "{self.rec_name("product.product", product)}" is inactive.')
