-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- POST /v1/tenants/{t}/subscriptions {productId, quantity, partnerMpnId}: a worldwide
-- tenant buys one of five Microsoft 365 products with one of its country's 24 eligible
-- advisors (R1). The tenant, the product and the partner (for its eligibility) are read
-- in one statement; then one statement writes the subscription, its advisor association
-- and the subscription.purchased and advisor.added events, with no transaction around
-- the two (the service sends the new ids as parameters; here the ids CTE makes one).
\set t random(1, :tenants)
\set t CASE WHEN :t % 20 = 0 THEN :t - 1 ELSE :t END
\set pi random(1, 5)
\set g random(0, 23)
\set q random(1, 100)
\set mpn 2000001 + :t % 19 + 19 * (:g + :g / 4)
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at", "products"."id", "products"."name", "products"."service_family", "products"."clouds", "products"."trial_available", "products"."trial_days", "partners"."mpn_id", "partners"."kind", "partners"."global_mpn_id", "partners"."name", "partners"."clouds", "partners"."country_codes", "partners"."service_families", "partners"."capabilities", "partners"."status", "partners"."contact_email", "partners"."created_at", "partners"."updated_at" FROM (("tenants" LEFT OUTER JOIN "products" ON ("products"."id" = (ARRAY['office-365-e3','microsoft-365-business-premium','microsoft-365-e5','office-365-e1','microsoft-365-business-standard'])[:pi])) LEFT OUTER JOIN "partners" ON ("partners"."mpn_id" = :mpn)) WHERE ("tenants"."id" = bench_uuid(1, :t)) LIMIT 1;
WITH ids AS (SELECT gen_random_uuid() AS id, (ARRAY['office-365-e3','microsoft-365-business-premium','microsoft-365-e5','office-365-e1','microsoft-365-business-standard'])[:pi] AS product), bought AS (INSERT INTO subscriptions (tenant_id, id, product_id, quantity, status, trial_ends_at, reseller_mpn_id, version, created_at, updated_at) SELECT bench_uuid(1, :t), id, product, :q, 'active', NULL, NULL, 1, now(), now() FROM ids), added AS (INSERT INTO advisor_associations (tenant_id, subscription_id, id, mpn_id, valid_from, valid_to, source, added_by, removed_by) SELECT bench_uuid(1, :t), id, gen_random_uuid(), :mpn, now(), NULL, 'purchase', 'pgbench', NULL FROM ids), recorded AS (INSERT INTO events (id, type, tenant_id, occurred_at, actor, data) VALUES (bench_uuid_v7(), 'subscription.purchased', bench_uuid(1, :t), clock_timestamp(), 'pgbench', jsonb_build_object('subscriptionId', (SELECT id FROM ids), 'productId', (SELECT product FROM ids), 'quantity', (:q)::integer, 'status', 'active', 'resellerMpnId', NULL)), (bench_uuid_v7(), 'advisor.added', bench_uuid(1, :t), clock_timestamp(), 'pgbench', jsonb_build_object('subscriptionId', (SELECT id FROM ids), 'mpnId', (:mpn)::text, 'at', now(), 'source', 'purchase'))) SELECT NULL::int8;
