-- pgbench anchor: the statements partnerlink sends for this endpoint, in its order
-- (captured with log_statement = all; run.sh --count checks the count still matches).
-- Ids are computed with bench_uuid() exactly as sql/load.sql and the load generator do.
-- Variables from run.sh: -D tenants=N -D subs=N.
-- POST /v1/tenants/{t}/subscriptions {productId, quantity, partnerMpnId}: a worldwide
-- tenant buys one of five Microsoft 365 products with one of its country's 24 eligible
-- advisors (R1): subscription, advisor association, then the subscription.purchased
-- and advisor.added events in one INSERT, in one transaction. The tenant, the product
-- and the partner (for its eligibility) are read in one statement.
\set t random(1, :tenants)
\set t CASE WHEN :t % 20 = 0 THEN :t - 1 ELSE :t END
\set pi random(1, 5)
\set g random(0, 23)
\set q random(1, 100)
\set mpn 2000001 + :t % 19 + 19 * (:g + :g / 4)
BEGIN;
SELECT "tenants"."id", "tenants"."display_name", "tenants"."cloud", "tenants"."country_code", "tenants"."created_at", "products"."id", "products"."name", "products"."service_family", "products"."clouds", "products"."trial_available", "products"."trial_days", "partners"."mpn_id", "partners"."kind", "partners"."global_mpn_id", "partners"."name", "partners"."clouds", "partners"."country_codes", "partners"."service_families", "partners"."capabilities", "partners"."status", "partners"."contact_email", "partners"."created_at", "partners"."updated_at" FROM (("tenants" LEFT OUTER JOIN "products" ON ("products"."id" = (ARRAY['office-365-e3','microsoft-365-business-premium','microsoft-365-e5','office-365-e1','microsoft-365-business-standard'])[:pi])) LEFT OUTER JOIN "partners" ON ("partners"."mpn_id" = :mpn)) WHERE ("tenants"."id" = bench_uuid(1, :t)) LIMIT 1;
INSERT INTO "subscriptions" ("tenant_id", "id", "product_id", "quantity", "status", "trial_ends_at", "reseller_mpn_id", "version", "created_at", "updated_at") VALUES (bench_uuid(1, :t), gen_random_uuid(), (ARRAY['office-365-e3','microsoft-365-business-premium','microsoft-365-e5','office-365-e1','microsoft-365-business-standard'])[:pi], :q, 'active', DEFAULT, DEFAULT, 1, now(), now()) RETURNING "subscriptions"."tenant_id", "subscriptions"."id", "subscriptions"."product_id", "subscriptions"."quantity", "subscriptions"."status", "subscriptions"."trial_ends_at", "subscriptions"."reseller_mpn_id", "subscriptions"."version", "subscriptions"."created_at", "subscriptions"."updated_at" \gset new_
INSERT INTO "advisor_associations" ("tenant_id", "subscription_id", "id", "mpn_id", "valid_from", "valid_to", "source", "added_by", "removed_by") VALUES (bench_uuid(1, :t), (:new_id)::uuid, gen_random_uuid(), :mpn, now(), DEFAULT, 'purchase', 'pgbench', DEFAULT);
INSERT INTO "events" ("id", "type", "tenant_id", "occurred_at", "actor", "data") VALUES (bench_uuid_v7(), 'subscription.purchased', bench_uuid(1, :t), clock_timestamp(), 'pgbench', jsonb_build_object('subscriptionId', (:new_id)::uuid, 'productId', (:new_product_id)::text, 'quantity', (:q)::integer, 'status', 'active', 'resellerMpnId', NULL)), (bench_uuid_v7(), 'advisor.added', bench_uuid(1, :t), clock_timestamp(), 'pgbench', jsonb_build_object('subscriptionId', (:new_id)::uuid, 'mpnId', (:mpn)::text, 'at', now(), 'source', 'purchase'));
COMMIT;
