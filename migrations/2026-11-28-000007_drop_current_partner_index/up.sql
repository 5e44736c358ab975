-- Every advisor change and purchase wrote an entry here, and at a million subscriptions
-- each such entry lands on a random leaf: about half a full-page write per request after
-- a checkpoint. Its one reader, the tenant's relationship listing, fetched the heap rows
-- and sorted them anyway; `advisor_associations_one_current` (tenant_id, subscription_id)
-- over the same rows answers it with the same probes.
DROP INDEX advisor_associations_current_partner;
