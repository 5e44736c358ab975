-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- GET …/subscriptions/{s}/advisor/history?at=T: tenant,
-- subscription, the association current at T. T is uniform in the 58 days from
-- 2024-01-02, when every subscription had an advisor.
\set s random(1, :subs)
\set t (:s - 1) % :tenants + 1
\set at 1704153600 + random(0, 58 * 86400 - 1)
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at" FROM "tenants" WHERE ("tenants"."id" = bench_uuid(1, :t)) LIMIT 1;
SELECT "subscriptions"."tenant_id", "subscriptions"."id", "subscriptions"."product_id", "subscriptions"."quantity", "subscriptions"."status", "subscriptions"."trial_ends_at", "subscriptions"."reseller_mpn_id", "subscriptions"."version", "subscriptions"."created_at", "subscriptions"."updated_at" FROM "subscriptions" WHERE (("subscriptions"."tenant_id" = bench_uuid(1, :t)) AND ("subscriptions"."id" = bench_uuid(2, :s))) LIMIT 1;
SELECT "advisor_associations"."tenant_id", "advisor_associations"."subscription_id", "advisor_associations"."id", "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."valid_to", "advisor_associations"."source", "advisor_associations"."added_by", "advisor_associations"."removed_by", "partners"."name" FROM ("advisor_associations" INNER JOIN "partners" ON ("advisor_associations"."mpn_id" = "partners"."mpn_id")) WHERE (((("advisor_associations"."tenant_id" = bench_uuid(1, :t)) AND ("advisor_associations"."subscription_id" = bench_uuid(2, :s))) AND ("advisor_associations"."valid_from" <= to_timestamp(:at))) AND (("advisor_associations"."valid_to" IS NULL) OR ("advisor_associations"."valid_to" > to_timestamp(:at)))) ORDER BY "advisor_associations"."valid_from" DESC LIMIT 1;
