-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- GET /v1/tenants/{t}/subscriptions/{s}: one statement, the tenant left-joined to the
-- subscription, its current advisor and the partner's name; a tenant admin has no
-- partner whose reseller relationship to check, so that column is a constant (a bound
-- `false` in the service). No transaction.
\set s random(1, :subs)
\set t (:s - 1) % :tenants + 1
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at", false, "subscriptions"."tenant_id", "subscriptions"."id", "subscriptions"."product_id", "subscriptions"."quantity", "subscriptions"."status", "subscriptions"."trial_ends_at", "subscriptions"."reseller_mpn_id", "subscriptions"."version", "subscriptions"."created_at", "subscriptions"."updated_at", "advisor_associations"."tenant_id", "advisor_associations"."subscription_id", "advisor_associations"."id", "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."valid_to", "advisor_associations"."source", "advisor_associations"."added_by", "advisor_associations"."removed_by", "partners"."name" FROM ((("tenants" LEFT OUTER JOIN "subscriptions" ON (("subscriptions"."tenant_id" = "tenants"."id") AND ("subscriptions"."id" = bench_uuid(2, :s)))) LEFT OUTER JOIN "advisor_associations" ON ((("advisor_associations"."tenant_id" = "subscriptions"."tenant_id") AND ("advisor_associations"."subscription_id" = ANY(ARRAY[bench_uuid(2, :s)]))) AND ("advisor_associations"."valid_to" IS NULL))) LEFT OUTER JOIN "partners" ON ("partners"."mpn_id" = "advisor_associations"."mpn_id")) WHERE ("tenants"."id" = bench_uuid(1, :t)) LIMIT 1;
