"""Usage at the level of a line: guiding a record to the line it belongs to, classing its
destination, and rating it in the issue's order.

Rating order, per record of a guided line:

1. Zero charge: a terminating record, an unanswered call, an undelivered message (kept, rated
   at zero, status rated).
2. Allowances: the line's active allowance buckets (`billing.Bucket`, kind allowance) for the
   service, valid at the record's time: zone-scoped ones first (a roaming record draws only on
   its roaming zone's), then on-net / off-net ones matching the destination, then "all"; within
   one rank the one expiring soonest first. International, premium-rate and short-code
   destinations never draw on allowances. The buckets of the lines in a chunk are locked
   (SELECT … FOR UPDATE, pk order) for the chunk's transaction, so concurrent chunks never
   over-consume; what a chunk drew is debited with one ledger entry per bucket
   (`billing.balances.services.usage_draws_post`). Buckets hold seconds and bytes; rating
   counts minutes and MB (what is left rounded down, so a draw never exceeds the bucket).
3. The plan's charging tiers (`orders.catalog.ChargingTier`), priced by the line's cumulative
   charged units in its bill period (units beyond allowances: minutes, messages, MB), kept in
   `billing.UsageCounter` and read under the line's advisory lock (`lines_lock`).

Only usage that may draw on an allowance or is priced by tiers (`needs_lock`) waits for those
locks; a chunk rates and writes the rest first.
4. The tariff: `settings.USAGE_TARIFF_RESOLVER` maps the line's plan to a `Tariff` (tariff
   version id, rating engine, currency); the engine rates a whole chunk at once
   (`engine.rate_many(descriptors)`), returning for each call a result with `cost` and `trace`
   or an error with `reason`.

5. Prepaid lines: what a chunk charged each line is debited from its money buckets in the
   chunk's transaction (`prepaid_charges`, `prepaid_debit`; billing.balances), the records
   marked billed; what the balance cannot cover is kept as a debt.

What remains unpriced is rejected `no_rate`. A price in another currency than the account's is
refused (`no_rate`, naming both), never relabelled.
"""

from billing.usage.lines.guiding import (
    Line,
    LineDirectory,
    Prefixes,
    destination_class,
    records_guide,
)
from billing.usage.lines.rating import (
    MONEY_STEP,
    GrantState,
    RatingOutcome,
    bill_period,
    grant_holders,
    grants_consume,
    grants_lock,
    lines_lock,
    needs_lock,
    prepaid_charges,
    prepaid_debit,
    records_rate,
    tier_counters_add,
    tier_price,
    tiers_clear,
    units_of,
)
from billing.usage.lines.tariffs import (
    Tariff,
    TariffResolver,
    call_descriptor,
    plan_tariff_resolver,
    tariff_resolver,
    trace_json,
)

__all__ = [
    "MONEY_STEP",
    "GrantState",
    "Line",
    "LineDirectory",
    "Prefixes",
    "RatingOutcome",
    "Tariff",
    "TariffResolver",
    "bill_period",
    "call_descriptor",
    "destination_class",
    "grant_holders",
    "grants_consume",
    "grants_lock",
    "lines_lock",
    "needs_lock",
    "plan_tariff_resolver",
    "prepaid_charges",
    "prepaid_debit",
    "records_guide",
    "records_rate",
    "tariff_resolver",
    "tier_counters_add",
    "tier_price",
    "tiers_clear",
    "trace_json",
    "units_of",
]
