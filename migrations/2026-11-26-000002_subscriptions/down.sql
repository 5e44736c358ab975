DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE partner_relationships;
DROP TABLE advisor_associations;
DROP TABLE subscriptions;
