"""Plain-language text for each exception type: what happened, why it matters, how to fix it."""

from exceptions.models import ExceptionType

EXPLANATIONS = {
    ExceptionType.UNMAPPED_LOCATION: {
        "what": "Sales arrived from a POS store or till that Tillbridge has no Fulfil warehouse for.",
        "why": "Stock must leave the warehouse of the store that sold it. Posting anywhere else would show "
        "stock in the wrong place and web orders could be promised goods that already left the shop.",
        "fix": "Pick the Fulfil warehouse for this store below (suggestions are ranked by name and code), "
        "save, and every blocked sale is requeued at once.",
    },
    ExceptionType.SKU_MISMATCH: {
        "what": "A line's SKU has no map and no exact match in the Fulfil catalog, or maps to a product that "
        "is no longer active.",
        "why": "Fulfil cannot deduct stock or book revenue for a product it does not know.",
        "fix": "Choose the Fulfil product below — suggestions compare code, barcode, the SKU written "
        "differently and the product name — save, and the blocked sales are requeued.",
    },
    ExceptionType.UNLINKED_RETURN: {
        "what": "A refund arrived without its original sale, or its original sale never reached Fulfil.",
        "why": "Fulfil needs the original sale to take the returned goods back at the cost they left at; "
        "without it, cost of goods and margin are wrong.",
        "fix": "Link each return to its original sale from the candidates (same store, SKU, amount, card). "
        "Finance can instead approve posting them as blind returns under the cost policy.",
    },
    ExceptionType.TAX_DISCREPANCY: {
        "what": "The tax the till charged differs from what Fulfil computes under the tax map by more than "
        "the tolerance.",
        "why": "Posting would put a different VAT figure in the ledger from the one on the "
        "customer's receipt.",
        "fix": "If the tax map is wrong, correct it and requeue. If the difference is rounding, finance can "
        "accept it (within the limit) and the sale posts with an adjustment line.",
    },
    ExceptionType.SYNC_TIMEOUT: {
        "what": "Fulfil has not accepted these transactions after repeated tries (it was busy, "
        "slow or down).",
        "why": "They will keep retrying by themselves; until then Fulfil's stock and sales are "
        "behind the tills.",
        "fix": "Usually nothing: check Health for Fulfil's error rate. Retry now once Fulfil is back.",
    },
    ExceptionType.FULFIL_REJECTED: {
        "what": "Fulfil refused these transactions with the message shown.",
        "why": "Fulfil will not take them until the cause in its message is fixed.",
        "fix": "Read Fulfil's message; fix the record in Fulfil or the map here, then retry now.",
    },
    ExceptionType.MISSING_DATA: {
        "what": "The POS sent a transaction that is incomplete: no lines, zero quantities, an unknown "
        "currency or totals that do not add up.",
        "why": "Posting it would put wrong figures in Fulfil.",
        "fix": "Check the raw event; correct it at the POS so it resends, or resolve with a note if it "
        "should never post.",
    },
    ExceptionType.DUPLICATE: {
        "what": "The same POS transaction arrived again with different content, or Fulfil already holds it "
        "with different figures.",
        "why": "Posting again would count the sale twice; ignoring it may leave Fulfil with old figures.",
        "fix": "Compare the versions, correct Fulfil if needed, then resolve with a note.",
    },
    ExceptionType.STOCK_MISMATCH: {
        "what": "Fulfil showed less stock at the store than the till just sold. The sale posted anyway — the "
        "goods have left the shop.",
        "why": "Fulfil's stock for this store is too high or was wrong; web channels may oversell it.",
        "fix": "Ask the store to count the product; correct stock in Fulfil; resolve with a note.",
    },
    ExceptionType.QUARANTINED: {
        "what": "A POS event could not be read.",
        "why": "Whatever it contained is not in Fulfil yet.",
        "fix": "Open the quarantine list, fix the cause, and replay it.",
    },
}
