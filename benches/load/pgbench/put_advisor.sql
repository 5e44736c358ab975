-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- PUT …/subscriptions/{s}/advisor {mpnId}: an active subscription (slots 0..5) of a
-- worldwide tenant gets one of its country's 24 eligible advisors, read with the
-- subscription, its tenant, its product and its current advisor in one statement that
-- locks nothing (one column added: \gset keeps the last of columns with one name);
-- when that is the current advisor the call is a no-op (1 in 24), as in the service.
-- Otherwise one statement, if the subscription is still at the version read, ends the
-- current association at the instant the new one begins, adds it, writes an
-- advisor.changed event and bumps the version (the service computes that instant and
-- the ids itself and sends them as parameters). No transaction around the two.
\set t random(1, :tenants)
\set t CASE WHEN :t % 20 = 0 THEN :t - 1 ELSE :t END
\set s random(0, 5) * :tenants + :t
\set ci :t % 19
\set g random(0, 23)
\set mpn 2000001 + :ci + 19 * (:g + :g / 4)
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at", "subscriptions"."tenant_id", "subscriptions"."id", "subscriptions"."product_id", "subscriptions"."quantity", "subscriptions"."status", "subscriptions"."trial_ends_at", "subscriptions"."reseller_mpn_id", "subscriptions"."version", "subscriptions"."created_at", "subscriptions"."updated_at", "products"."id", "products"."name", "products"."service_family", "products"."clouds", "products"."trial_available", "products"."trial_days", "advisor_associations"."tenant_id", "advisor_associations"."subscription_id", "advisor_associations"."id", "advisor_associations"."mpn_id", "advisor_associations"."valid_from", "advisor_associations"."valid_to", "advisor_associations"."source", "advisor_associations"."added_by", "advisor_associations"."removed_by", "partners"."mpn_id", "partners"."kind", "partners"."global_mpn_id", "partners"."name", "partners"."clouds", "partners"."country_codes", "partners"."service_families", "partners"."capabilities", "partners"."status", "partners"."contact_email", "partners"."created_at", "partners"."updated_at", "advisor_associations"."mpn_id" AS current_mpn_id FROM (((("tenants" LEFT OUTER JOIN "subscriptions" ON (("subscriptions"."tenant_id" = "tenants"."id") AND ("subscriptions"."id" = bench_uuid(2, :s)))) LEFT OUTER JOIN "products" ON ("products"."id" = "subscriptions"."product_id")) LEFT OUTER JOIN "advisor_associations" ON ((("advisor_associations"."tenant_id" = "subscriptions"."tenant_id") AND ("advisor_associations"."subscription_id" = ANY(ARRAY[bench_uuid(2, :s)]))) AND ("advisor_associations"."valid_to" IS NULL))) LEFT OUTER JOIN "partners" ON ("partners"."mpn_id" = :mpn)) WHERE ("tenants"."id" = bench_uuid(1, :t)) LIMIT 1 \gset cur_
\if :cur_current_mpn_id != :mpn
WITH instant AS (SELECT GREATEST(now(), (:cur_valid_from)::timestamptz + interval '1 microsecond') AS at), saved AS (UPDATE subscriptions SET quantity = quantity, status = status, trial_ends_at = trial_ends_at, version = version + 1, updated_at = (SELECT at FROM instant) WHERE tenant_id = bench_uuid(1, :t) AND id = bench_uuid(2, :s) AND version = :cur_version RETURNING version), ended AS (UPDATE advisor_associations SET valid_to = (SELECT at FROM instant), removed_by = 'pgbench' WHERE tenant_id = bench_uuid(1, :t) AND id = (:cur_id)::uuid AND EXISTS (SELECT FROM saved) RETURNING id), added AS (INSERT INTO advisor_associations (tenant_id, subscription_id, id, mpn_id, valid_from, valid_to, source, added_by, removed_by) SELECT bench_uuid(1, :t), bench_uuid(2, :s), gen_random_uuid(), :mpn, (SELECT at FROM instant), NULL, 'customer', 'pgbench', NULL FROM (SELECT count(*) FROM ended) AS after_end WHERE EXISTS (SELECT FROM saved)), recorded AS (INSERT INTO events (id, type, tenant_id, occurred_at, actor, data) SELECT bench_uuid_v7(), 'advisor.changed', bench_uuid(1, :t), clock_timestamp(), 'pgbench', jsonb_build_object('subscriptionId', bench_uuid(2, :s), 'mpnId', (:mpn)::text, 'previousMpnId', (:cur_current_mpn_id)::text, 'at', (SELECT at FROM instant), 'source', 'customer') WHERE EXISTS (SELECT FROM saved)) SELECT (SELECT version FROM saved);
\endif
