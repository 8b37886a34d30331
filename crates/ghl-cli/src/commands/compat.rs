//! The command names of the Python skill `ghl` succeeds, with the same
//! positional arguments, so existing scripts and agent prompts carry over.
//! Where that skill sent what the API does not accept (YYYY-MM-DD dates for
//! free slots, invoices without altId/altType), the catalog's rules apply:
//! dates become epoch milliseconds and the location fills altId/altType.

use super::friendly::FixedValue::Str;
use super::friendly::Pos::{Json, Opt, Param};
use super::friendly::{Friendly, cmd, with};

pub const COMMANDS: &[Friendly] = &[
    cmd(
        &["test_connection"],
        "Check the token and location by reading the location",
        "locations.get-location",
        &[],
    ),
    cmd(
        &["search_contacts"],
        "Search contacts",
        "contacts.search-contacts-advanced",
        &[Opt("query", "words to look for")],
    ),
    cmd(
        &["get_contact"],
        "Show one contact",
        "contacts.get-contact",
        &[Param("contactId", "the contact's id")],
    ),
    cmd(
        &["create_contact"],
        "Create a contact from JSON",
        "contacts.create-contact",
        &[Json("contact fields")],
    ),
    cmd(
        &["update_contact"],
        "Update a contact with JSON",
        "contacts.update-contact",
        &[
            Param("contactId", "the contact's id"),
            Json("fields to change"),
        ],
    ),
    cmd(
        &["list_opportunities"],
        "List opportunities",
        "opportunities.search-opportunity",
        &[],
    ),
    cmd(
        &["list_conversations"],
        "List conversations",
        "conversations.search-conversation",
        &[],
    ),
    with(
        &["send_message"],
        "Send an SMS to a contact",
        "conversations.send-a-new-message",
        &[
            Param("contactId", "the contact's id"),
            Param("message", "the text"),
        ],
        &[("type", Str("SMS"))],
    ),
    cmd(
        &["list_calendars"],
        "List calendars",
        "calendars.get-calendars",
        &[],
    ),
    cmd(
        &["get_free_slots"],
        "Free slots of a calendar (dates as YYYY-MM-DD or epoch ms)",
        "calendars.get-slots",
        &[
            Param("calendarId", "the calendar's id"),
            Param("startDate", "from"),
            Param("endDate", "to"),
        ],
    ),
    cmd(
        &["list_workflows"],
        "List workflows",
        "workflows.get-workflow",
        &[],
    ),
    cmd(
        &["add_to_workflow"],
        "Enroll a contact in a workflow",
        "contacts.add-contact-to-workflow",
        &[
            Param("contactId", "the contact's id"),
            Param("workflowId", "the workflow's id"),
        ],
    ),
    cmd(
        &["list_invoices"],
        "List invoices",
        "invoices.list-invoices",
        &[],
    ),
    cmd(
        &["list_products"],
        "List products",
        "products.list-invoices",
        &[],
    ),
    cmd(&["list_forms"], "List forms", "forms.get-forms", &[]),
    cmd(
        &["list_campaigns"],
        "List campaigns",
        "campaigns.get-campaigns",
        &[],
    ),
    cmd(
        &["get_location_details"],
        "Show the location",
        "locations.get-location",
        &[],
    ),
    cmd(
        &["list_location_tags"],
        "List the location's tags",
        "locations.get-location-tags",
        &[],
    ),
];

/// `list_courses` has no API v2 operation behind it (HighLevel offers
/// course import only), so it answers with that fact instead of a guess.
pub const LIST_COURSES: &str = "list_courses";
