//! The mirror's tables. Every record keeps its raw JSON (`raw`) beside the
//! columns people query; times are kept as given (`*_at`, text) and as epoch
//! milliseconds (`*_ms`) so reports compare numbers on every backend.

use ghl_store::Migration;

/// The plane name under which the store records these migrations.
pub const PLANE: &str = "mirror";

const TABLES: &str = "
CREATE TABLE contacts (
  id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, name TEXT, email TEXT, phone TEXT,
  company_name TEXT, source TEXT, type TEXT, assigned_to TEXT, dnd BIGINT, tags TEXT,
  date_added TEXT, date_added_ms BIGINT, date_updated TEXT, date_updated_ms BIGINT,
  email_key TEXT, phone_key TEXT, raw TEXT NOT NULL);
CREATE INDEX contacts_email ON contacts (email_key);
CREATE INDEX contacts_phone ON contacts (phone_key);
CREATE INDEX contacts_added ON contacts (date_added_ms, source);
CREATE INDEX contacts_source ON contacts (source, date_added_ms);
CREATE TABLE contact_tags (
  contact_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (contact_id, tag));
CREATE INDEX contact_tags_tag ON contact_tags (tag);
CREATE TABLE contact_field_values (
  contact_id TEXT NOT NULL, field_id TEXT NOT NULL, value TEXT,
  PRIMARY KEY (contact_id, field_id));
CREATE TABLE custom_fields (
  id TEXT PRIMARY KEY, name TEXT, field_key TEXT, data_type TEXT, model TEXT, raw TEXT NOT NULL);
CREATE TABLE tags (id TEXT PRIMARY KEY, name TEXT, raw TEXT NOT NULL);
CREATE TABLE pipelines (id TEXT PRIMARY KEY, name TEXT, raw TEXT NOT NULL);
CREATE TABLE stages (
  id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, name TEXT, position BIGINT);
CREATE INDEX stages_pipeline ON stages (pipeline_id, position);
CREATE TABLE opportunities (
  id TEXT PRIMARY KEY, name TEXT, pipeline_id TEXT, stage_id TEXT, status TEXT,
  monetary_value DOUBLE PRECISION, assigned_to TEXT, contact_id TEXT, source TEXT,
  created_at TEXT, created_ms BIGINT, updated_at TEXT, updated_ms BIGINT,
  stage_entered_ms BIGINT, raw TEXT NOT NULL);
CREATE INDEX opportunities_stage ON opportunities (pipeline_id, stage_id, status);
CREATE INDEX opportunities_entered ON opportunities (status, stage_entered_ms);
CREATE INDEX opportunities_contact ON opportunities (contact_id, status, monetary_value);
CREATE TABLE stage_history (
  opportunity_id TEXT NOT NULL, stage_id TEXT NOT NULL, entered_ms BIGINT NOT NULL,
  origin TEXT NOT NULL, PRIMARY KEY (opportunity_id, entered_ms, stage_id));
CREATE TABLE users (
  id TEXT PRIMARY KEY, name TEXT, first_name TEXT, last_name TEXT, email TEXT, role TEXT,
  raw TEXT NOT NULL);
CREATE TABLE calendars (id TEXT PRIMARY KEY, name TEXT, group_id TEXT, raw TEXT NOT NULL);
CREATE TABLE appointments (
  id TEXT PRIMARY KEY, calendar_id TEXT, contact_id TEXT, title TEXT, status TEXT,
  assigned_user_id TEXT, start_time TEXT, start_ms BIGINT, end_time TEXT, raw TEXT NOT NULL);
CREATE INDEX appointments_start ON appointments (start_ms);
CREATE TABLE conversations (
  id TEXT PRIMARY KEY, contact_id TEXT, type TEXT, unread_count BIGINT,
  last_message_ms BIGINT, last_message_body TEXT, raw TEXT NOT NULL);
CREATE TABLE messages (
  id TEXT PRIMARY KEY, conversation_id TEXT, contact_id TEXT, direction TEXT, type TEXT,
  body TEXT, status TEXT, date_added TEXT, date_added_ms BIGINT, raw TEXT NOT NULL);
CREATE INDEX messages_contact ON messages (contact_id, date_added_ms);
CREATE TABLE invoices (
  id TEXT PRIMARY KEY, number TEXT, name TEXT, status TEXT, contact_id TEXT,
  total DOUBLE PRECISION, amount_due DOUBLE PRECISION, currency TEXT, issue_date TEXT,
  due_date TEXT, updated_at TEXT, raw TEXT NOT NULL);
CREATE TABLE products (
  id TEXT PRIMARY KEY, name TEXT, product_type TEXT, updated_at TEXT, raw TEXT NOT NULL);
CREATE TABLE sync_state (
  grp TEXT PRIMARY KEY, cursor TEXT, full_scan BIGINT NOT NULL DEFAULT 0,
  run_started_ms BIGINT, high_water_ms BIGINT, fetched BIGINT NOT NULL DEFAULT 0,
  listed_total BIGINT,
  completed_ms BIGINT);
CREATE TABLE sync_seen (grp TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (grp, id));
CREATE VIEW contacts_wide AS SELECT c.* FROM contacts c;
";

const OPPORTUNITIES_VIEW_SQLITE: &str = "
CREATE VIEW opportunities_view AS
SELECT o.id, o.name, o.status, o.monetary_value, p.name AS pipeline, s.name AS stage,
  u.name AS owner, o.contact_id, c.name AS contact_name, o.source, o.created_at, o.updated_at,
  o.stage_entered_ms,
  CAST((CAST(strftime('%s', 'now') AS INTEGER) * 1000 - o.stage_entered_ms) / 86400000 AS INTEGER)
    AS days_in_stage,
  o.pipeline_id, o.stage_id, o.assigned_to
FROM opportunities o
LEFT JOIN pipelines p ON p.id = o.pipeline_id
LEFT JOIN stages s ON s.id = o.stage_id
LEFT JOIN users u ON u.id = o.assigned_to
LEFT JOIN contacts c ON c.id = o.contact_id;
";

const OPPORTUNITIES_VIEW_POSTGRES: &str = "
CREATE VIEW opportunities_view AS
SELECT o.id, o.name, o.status, o.monetary_value, p.name AS pipeline, s.name AS stage,
  u.name AS owner, o.contact_id, c.name AS contact_name, o.source, o.created_at, o.updated_at,
  o.stage_entered_ms,
  CAST(FLOOR((EXTRACT(EPOCH FROM now()) * 1000 - o.stage_entered_ms) / 86400000) AS BIGINT)
    AS days_in_stage,
  o.pipeline_id, o.stage_id, o.assigned_to
FROM opportunities o
LEFT JOIN pipelines p ON p.id = o.pipeline_id
LEFT JOIN stages s ON s.id = o.stage_id
LEFT JOIN users u ON u.id = o.assigned_to
LEFT JOIN contacts c ON c.id = o.contact_id;
";

/// Settings of the mirror's syncs (the reconcile schedule) and when each
/// group last ran an id scan, by key.
const SYNC_SETTINGS: &str = "
CREATE TABLE sync_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: TABLES,
        postgres: TABLES,
    },
    Migration {
        version: 2,
        sqlite: OPPORTUNITIES_VIEW_SQLITE,
        postgres: OPPORTUNITIES_VIEW_POSTGRES,
    },
    Migration {
        version: 3,
        sqlite: SYNC_SETTINGS,
        postgres: SYNC_SETTINGS,
    },
];
