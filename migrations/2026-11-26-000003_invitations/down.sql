DROP TABLE invitations;
DROP INDEX advisor_associations_partner_current;
ALTER TABLE partner_relationships
    DROP COLUMN invitation_id,
    DROP CONSTRAINT partner_relationships_ended_after_start,
    DROP CONSTRAINT partner_relationships_lifetime,
    DROP CONSTRAINT partner_relationships_roles;
