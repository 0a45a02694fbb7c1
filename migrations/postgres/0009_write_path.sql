-- Events that belong to no workspace (a user, a role, an API key, a deleted workspace) are
-- logged at tenant level: `workspace_id` becomes optional.
ALTER TABLE activity ALTER COLUMN workspace_id DROP NOT NULL;
CREATE INDEX activity_tenant ON activity (tenant_id, id);
