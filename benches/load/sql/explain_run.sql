-- Included twice by explain.sql, once per plan_cache_mode (psql variable mode).
SET plan_cache_mode = :mode;
\qecho '### tenant_by_id' :mode
EXPLAIN (COSTS OFF) EXECUTE tenant_by_id(:'t', 1);
\qecho '### subscription_by_id' :mode
EXPLAIN (COSTS OFF) EXECUTE subscription_by_id(:'t', :'s', 1);
\qecho '### subscription_read_admin' :mode
EXPLAIN (COSTS OFF) EXECUTE subscription_read_admin(false, :'s', :'s', :'t', 1);
\qecho '### subscription_read_reseller' :mode
EXPLAIN (COSTS OFF) EXECUTE subscription_read(:'t', 2000001, 'reseller', :'s', :'s', :'t', 1);
\qecho '### subscription_read_at' :mode
EXPLAIN (COSTS OFF) EXECUTE subscription_read_at(false, :'s', :'s', '2024-02-01T00:00:00Z', '2024-02-01T00:00:00Z', :'t', 1);
\qecho '### partner_search' :mode
EXPLAIN (COSTS OFF) EXECUTE partner_search(0, 'DK', 'microsoft365', '%fabrikam%', 21);
\qecho '### subscription_for_change' :mode
EXPLAIN (COSTS OFF) EXECUTE subscription_for_change(:'s', :'s', 2000001, :'t', 1);
\qecho '### tenant_with_product' :mode
EXPLAIN (COSTS OFF) EXECUTE tenant_with_product('office-365-e3', 2000001, :'t', 1);
\qecho '### product_by_id' :mode
EXPLAIN (COSTS OFF) EXECUTE product_by_id('office-365-e3', 1);
\qecho '### advisor_change' :mode
EXPLAIN (COSTS OFF) EXECUTE advisor_change(1, 'active', NULL, now(), :'t', :'s', 1, now(), 'x', :'t', bench_uuid(3, 56), :'t', :'s', gen_random_uuid(), 2000001, now(), NULL, 'customer', 'x', NULL, gen_random_uuid(), 'advisor.changed', :'t', now(), 'x', '{}');
\qecho '### tenant_with_advice' :mode
EXPLAIN (COSTS OFF) EXECUTE tenant_with_advice(:'t', 'delegatedAdmin', now(), :'t');
\qecho '### sweep_expired (only when tenant_with_advice says one is due)' :mode
EXPLAIN (COSTS OFF) EXECUTE sweep_expired('system', 'delegatedAdmin', now(), :'t');
\qecho '### open_relationships' :mode
EXPLAIN (COSTS OFF) EXECUTE open_relationships(:'t', now());
