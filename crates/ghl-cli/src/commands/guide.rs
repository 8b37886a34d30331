//! How to create a Private Integration in HighLevel, and which scopes to
//! give it: least-privilege sets per use case, named exactly as the catalog
//! (and HighLevel's scope picker) names them.

/// One use case and the scopes it needs. Every set includes
/// `locations.readonly`, which `ghl setup` and `ghl doctor` use to check the
/// connection and show the location's name.
pub struct ScopeSet {
    pub name: &'static str,
    pub about: &'static str,
    pub scopes: &'static [&'static str],
}

pub const SCOPE_SETS: &[ScopeSet] = &[
    ScopeSet {
        name: "Contacts only",
        about: "search, create and update contacts, tags and notes",
        scopes: &["locations.readonly", "contacts.readonly", "contacts.write"],
    },
    ScopeSet {
        name: "Contacts and messaging",
        about: "contacts plus conversations: read threads, send SMS and email",
        scopes: &[
            "locations.readonly",
            "contacts.readonly",
            "contacts.write",
            "conversations.readonly",
            "conversations.write",
            "conversations/message.readonly",
            "conversations/message.write",
        ],
    },
    ScopeSet {
        name: "Full CRM",
        about: "contacts, conversations, calendars, opportunities, custom fields, users, forms",
        scopes: &[
            "locations.readonly",
            "contacts.readonly",
            "contacts.write",
            "conversations.readonly",
            "conversations.write",
            "conversations/message.readonly",
            "conversations/message.write",
            "calendars.readonly",
            "calendars.write",
            "calendars/events.readonly",
            "calendars/events.write",
            "opportunities.readonly",
            "opportunities.write",
            "locations/customFields.readonly",
            "locations/customFields.write",
            "locations/customValues.readonly",
            "locations/tags.readonly",
            "locations/tags.write",
            "users.readonly",
            "forms.readonly",
            "surveys.readonly",
            "campaigns.readonly",
            "workflows.readonly",
        ],
    },
    ScopeSet {
        name: "Workflows and invoices",
        about: "list workflows (enrol contacts), create and send invoices, products and payments",
        scopes: &[
            "locations.readonly",
            "contacts.readonly",
            "contacts.write",
            "workflows.readonly",
            "invoices.readonly",
            "invoices.write",
            "invoices/schedule.readonly",
            "invoices/schedule.write",
            "invoices/template.readonly",
            "products.readonly",
            "products/prices.readonly",
            "payments/orders.readonly",
            "payments/transactions.readonly",
        ],
    },
    ScopeSet {
        name: "Read-only reporting",
        about: "read everything a report needs, change nothing",
        scopes: &[
            "locations.readonly",
            "contacts.readonly",
            "conversations.readonly",
            "calendars.readonly",
            "calendars/events.readonly",
            "opportunities.readonly",
            "invoices.readonly",
            "payments/orders.readonly",
            "payments/transactions.readonly",
            "forms.readonly",
            "surveys.readonly",
            "campaigns.readonly",
            "workflows.readonly",
            "users.readonly",
        ],
    },
];

/// Where scopes are added to an existing integration (doctor and errors).
pub const WHERE_TO_ADD_SCOPES: &str =
    "HighLevel > Settings > Private Integrations > your integration > Edit > Scopes";

/// The steps to create a Private Integration, for one scope set.
pub fn steps(set: &ScopeSet) -> String {
    let mut out = String::new();
    out.push_str("Create a Private Integration in HighLevel:\n");
    out.push_str("  1. Log in to HighLevel and switch to the sub-account (location) to connect.\n");
    out.push_str("  2. Open Settings > Private Integrations.\n");
    out.push_str(
        "     Not in the menu? Turn it on first: Settings > Labs > \"Private Integrations\",\n",
    );
    out.push_str("     then reload the page (agency admins: Agency Settings > Labs).\n");
    out.push_str("  3. Click \"Create new Integration\"; name it (e.g. \"ghl CLI\").\n");
    out.push_str(&format!(
        "  4. Pick the scopes for \"{}\" ({}), and nothing more:\n",
        set.name, set.about
    ));
    for s in set.scopes {
        out.push_str(&format!("       {s}\n"));
    }
    out.push_str("  5. Create it and copy the token (it starts with pit-). Keep it secret.\n");
    out.push_str("  6. The Location ID: Settings > Business Profile shows it, or copy the\n");
    out.push_str("     browser's address (.../v2/location/<ID>/...) and paste that.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_is_a_catalog_scope() {
        let known: std::collections::BTreeSet<&str> = ghl_catalog::operations()
            .iter()
            .flat_map(|op| op.security.iter().flat_map(|s| s.scopes.iter()))
            .map(String::as_str)
            .collect();
        for set in SCOPE_SETS {
            for s in set.scopes {
                assert!(known.contains(s), "{} names unknown scope {s}", set.name);
            }
            assert!(steps(set).contains(set.scopes[0]));
        }
    }
}
