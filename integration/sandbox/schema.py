"""The Fulfil models the sandbox serves, with their fields. Types drive encoding, relations drive
dotted paths, `where`/`child_of`, and One2Many writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    type: (
        str  # char text int float numeric bool date datetime selection many2one one2many many2many reference
    )
    relation: str = ""
    reverse: str = ""  # one2many: the many2one on the child
    required: bool = False
    computed: bool = False
    default: object = None


@dataclass
class Model:
    name: str
    fields: dict[str, Field]
    parent_field: str = ""  # stored in SandboxRecord.parent_id for fast child lookups
    code_field: str = ""  # stored in SandboxRecord.code
    unique_channel_identifier: bool = False
    rec_name: str = "name"
    methods: set[str] = field(default_factory=set)


def F(type_: str, relation: str = "", **kw) -> Field:
    return Field(type_, relation, **kw)


CHAR = F("char")
MODELS: dict[str, Model] = {}


def register(model: Model) -> None:
    MODELS[model.name] = model


register(Model("res.user", {"name": CHAR, "login": CHAR, "active": F("bool", default=True)}))
register(Model("ir.model", {"model": CHAR, "name": CHAR}))
register(
    Model(
        "currency.currency",
        {"code": CHAR, "name": CHAR, "active": F("bool", default=True)},
        code_field="code",
    )
)
register(
    Model(
        "stock.location",
        {
            "name": F("char", required=True),
            "code": CHAR,
            "type": F("selection", default="storage"),
            "parent": F("many2one", "stock.location"),
            "childs": F("one2many", "stock.location", reverse="parent"),
            "input_location": F("many2one", "stock.location"),
            "output_location": F("many2one", "stock.location"),
            "storage_location": F("many2one", "stock.location"),
            "active": F("bool", default=True),
        },
        parent_field="parent",
        code_field="code",
    )
)
register(
    Model(
        "party.party",
        {
            "name": F("char", required=True),
            "code": CHAR,
            "customer_location": F("many2one", "stock.location"),
            "active": F("bool", default=True),
        },
        code_field="code",
    )
)
register(
    Model(
        "product.template",
        {
            "name": F("char", required=True),
            "products": F("one2many", "product.product", reverse="template"),
            "active": F("bool", default=True),
        },
    )
)
register(
    Model(
        "product.product",
        {
            "code": F("char", required=True),
            "name": F("char", required=True),
            "variant_name": CHAR,
            "template": F("many2one", "product.template"),
            "barcode": CHAR,
            "upc": CHAR,
            "list_price": F("numeric", default="0"),
            "cost_price": F("numeric", default="0"),
            "type": F("selection", default="goods"),
            "salable": F("bool", default=True),
            "default_uom": F("int", default=1),
            "customer_taxes": F("many2many", "account.tax"),
            "active": F("bool", default=True),
            "quantity_on_hand": F("float", computed=True),
            "quantity_available": F("float", computed=True),
        },
        parent_field="template",
        code_field="code",
        rec_name="code",
        methods={"get_product_inventory"},
    )
)
register(
    Model(
        "account.tax",
        {
            "name": F("char", required=True),
            "description": CHAR,
            "type": F("selection", default="percentage"),
            "rate": F("numeric", default="0"),
            "amount": F("numeric", default="0"),
            "active": F("bool", default=True),
        },
    )
)
register(
    Model(
        "payment_gateway.gateway",
        {
            "name": F("char", required=True),
            "code": CHAR,
            "provider": F("selection", default="self"),
            "method": F("selection", default="manual"),
            "active": F("bool", default=True),
        },
        code_field="code",
    )
)
register(
    Model(
        "sale.channel",
        {
            "name": F("char", required=True),
            "code": CHAR,
            "source": F("selection", default="pos"),
            "warehouse": F("many2one", "stock.location"),
            "anonymous_customer": F("many2one", "party.party"),
            "currency": F("many2one", "currency.currency"),
            "delivery_mode": F("selection", default="pick_up"),
            "active": F("bool", default=True),
        },
        code_field="code",
        methods={"create_order"},
    )
)
register(
    Model(
        "sale.sale",
        {
            "party": F("many2one", "party.party", required=True),
            "channel": F("many2one", "sale.channel", required=True),
            "channel_identifier": CHAR,
            "reference": CHAR,
            "number": CHAR,
            "description": CHAR,
            "sale_date": F("date"),
            "warehouse": F("many2one", "stock.location"),
            "currency": F("many2one", "currency.currency"),
            "lines": F("one2many", "sale.line", reverse="sale"),
            "payments": F("one2many", "sale.payment", reverse="sale"),
            "origin": F("reference"),
            "state": F("selection", default="draft"),
            "comment": F("text"),
            "cost_source": F("selection"),
            "invoice_method": F("selection", default="order"),
            "shipment_method": F("selection", default="order"),
            "shipment_state": F("selection", default="none"),
            "untaxed_amount": F("numeric", computed=True),
            "tax_amount": F("numeric", computed=True),
            "total_amount": F("numeric", computed=True),
            "moves": F("one2many", "stock.move", computed=True),
        },
        unique_channel_identifier=True,
        rec_name="number",
        methods={"quote", "confirm", "process", "cancel", "draft"},
    )
)
register(
    Model(
        "sale.line",
        {
            "sale": F("many2one", "sale.sale", required=True),
            "type": F("selection", default="line"),
            "product": F("many2one", "product.product"),
            "quantity": F("float", default=0.0),
            "unit": F("int", default=1),
            "unit_price": F("numeric"),
            "amount": F("numeric", computed=True),
            "taxes": F("many2many", "account.tax"),
            "description": F("text"),
            "note": F("text"),
            "warehouse": F("many2one", "stock.location"),
            "delivery_mode": F("selection", default="pick_up"),
            "channel_identifier": CHAR,
            "cost_source": F("selection"),
            "moves": F("one2many", "stock.move", computed=True),
        },
        parent_field="sale",
        unique_channel_identifier=True,
        rec_name="description",
    )
)
register(
    Model(
        "sale.payment",
        {
            "sale": F("many2one", "sale.sale", required=True),
            "gateway": F("many2one", "payment_gateway.gateway", required=True),
            "amount": F("numeric", required=True),
            "reference": CHAR,
        },
        parent_field="sale",
    )
)
register(
    Model(
        "payment_gateway.transaction",
        {
            "gateway": F("many2one", "payment_gateway.gateway", required=True),
            "amount": F("numeric", required=True),
            "currency": F("many2one", "currency.currency"),
            "date": F("date"),
            "provider_reference": CHAR,
            "description": CHAR,
            "type": F("selection", default="charge"),
            "state": F("selection", default="draft"),
            "origin": F("reference"),
            "party": F("many2one", "party.party"),
        },
        code_field="provider_reference",
        rec_name="provider_reference",
        methods={"process", "post", "cancel"},
    )
)
register(
    Model(
        "stock.move",
        {
            "product": F("many2one", "product.product", required=True),
            "quantity": F("float", required=True),
            "from_location": F("many2one", "stock.location", required=True),
            "to_location": F("many2one", "stock.location", required=True),
            "state": F("selection", default="draft"),
            "effective_date": F("date"),
            "planned_date": F("date"),
            "origin": F("reference"),
            "unit_price": F("numeric"),
            "cost_price": F("numeric"),
        },
        rec_name="origin",
    )
)

# Fields Fulfil adds to every model.
COMMON = {
    "id": F("int"),
    "rec_name": F("char", computed=True),
    "create_date": F("datetime", computed=True),
    "write_date": F("datetime", computed=True),
}


def get_field(model: str, name: str) -> Field | None:
    return COMMON.get(name) or MODELS[model].fields.get(name)
