//! Judgements the specs do not state outright: what an operation does to the
//! world (policy), whether it may be retried, and how it pages. Kept as plain
//! lists so a reviewer can read and amend them.

use ghl_catalog::{Effect, Method, Pagination, Param, ParamIn};

/// POSTs that only read (searches and lookups): allowed under `--read-only`
/// and safe to retry.
const READ_POSTS: &[&str] = &[
    "contacts/search-contacts-advanced",
    "opportunities/search-opportunities-advanced",
    "objects/search-object-records",
    "locations/task-search",
    "social-media-posting/get-posts",
    "social-media-posting/get-tags-by-ids",
    "social-media-posting/get-social-media-statistics",
    "store/get-available-shipping-zones",
    "users/filter-users-by-email",
    "calendars/validate-groups-slug",
    "ad-manager/google-get-keyword-ideas",
    // v3 only: the social planner's queue and comment listings are POSTs.
    "social-planner-v3/fetchQueues",
    "social-planner-v3/fetchQueueItems",
    "social-planner-v3/fetchEditSessionCalendar",
    "social-planner-v3/fetchSlots",
    "social-planner-v3/fetchCalendarList",
    "social-planner-v3/get-comment-list",
];

/// Operations that reach people or money: messages, invoices and documents
/// sent, payments recorded or charged, ads and posts published.
const OUTBOUND: &[&str] = &[
    "conversations/send-a-new-message",
    "conversations/send-review-reply",
    "invoices/send-invoice",
    "invoices/send-estimate",
    "invoices/text2pay-invoice",
    "invoices/record-invoice",
    "invoices/schedule-invoice-schedule",
    "invoices/update-and-schedule-invoice-schedule",
    "invoices/auto-payment-invoice-schedule",
    "payments/record-order-payment",
    "marketplace/charge",
    "proposals/send-documents-contracts",
    "proposals/send-documents-contracts-template",
    "social-media-posting/create-post",
    "ad-manager/fb-publish-campaign",
    "ad-manager/google-publish-ad",
    "ad-manager/li-publish-campaign-group",
    "agent-studio/promoteAndPublish",
    "email-isv/verify-email",
    // v3 only: an email campaign scheduled goes out to its recipients; a
    // comment or like is published on a social network; complimentary
    // credits are money.
    "emails-v3/schedule-campaign",
    "social-planner-v3/create-comment",
    "social-planner-v3/create-like",
    "saas-v3/updateLocationWalletBalance",
];

/// Non-DELETE operations that destroy or cancel something.
const DESTRUCTIVE: &[&str] = &[
    "invoices/void-invoice",
    "invoices/cancel-invoice-schedule",
    "medias/bulk-delete-media-objects",
    "social-media-posting/bulk-delete-social-planner-posts",
    "payments/disconnect-config",
    "saas-api/bulk-disable-saas",
    "saas-api/bulk-disable-saas-deprecated",
];

/// Operations whose body schema is left empty in the spec although the API
/// requires `locationId` in it (NOTES.md: POST /contacts/search).
pub const UNDECLARED_BODY_LOCATION: &[&str] = &["contacts/search-contacts-advanced"];

pub fn undeclared_body_location(group: &str, operation_id: &str) -> bool {
    listed(UNDECLARED_BODY_LOCATION, group, operation_id)
}

/// POSTs that create-or-update by a natural key, so a repeat changes nothing.
const IDEMPOTENT_POSTS: &[&str] = &["contacts/upsert-contact"];

/// The v2 group a v3 spec file's group corresponds to (NOTES.md: some v3
/// files rename their group), so the lists here judge both alike.
pub fn v2_group(group: &str) -> &str {
    match group.strip_suffix(ghl_catalog::V3_GROUP_SUFFIX) {
        Some("social-planner") => "social-media-posting",
        Some("saas") => "saas-api",
        Some("ad-publishing") => "ad-manager",
        Some(g) => g,
        None => group,
    }
}

/// Entries name the operation's own group or, for a v3 operation, its v2 group.
fn listed(list: &[&str], group: &str, operation_id: &str) -> bool {
    list.iter().any(|e| {
        e.split_once('/')
            .is_some_and(|(g, o)| o == operation_id && (g == group || g == v2_group(group)))
    })
}

pub fn effect(group: &str, operation_id: &str, method: Method) -> Effect {
    if listed(OUTBOUND, group, operation_id) {
        Effect::Outbound
    } else if method == Method::Delete || listed(DESTRUCTIVE, group, operation_id) {
        Effect::Destructive
    } else if method == Method::Get || listed(READ_POSTS, group, operation_id) {
        Effect::Read
    } else {
        Effect::Write
    }
}

pub fn idempotent(group: &str, operation_id: &str, method: Method, effect: Effect) -> bool {
    match method {
        Method::Get | Method::Put | Method::Delete => effect != Effect::Outbound,
        Method::Post => effect == Effect::Read || listed(IDEMPOTENT_POSTS, group, operation_id),
        Method::Patch => false,
    }
}

/// The pagination style of an operation, from the names of its paging
/// parameters. `body_fields` are the top-level JSON body fields.
pub fn pagination(
    group: &str,
    operation_id: &str,
    path: &str,
    params: &[Param],
    body_fields: &[Param],
) -> Option<Pagination> {
    let q = |n: &str| {
        params
            .iter()
            .any(|p| p.name == n && p.location == ParamIn::Query)
    };
    let b = |n: &str| body_fields.iter().any(|p| p.name == n);
    // POST /contacts/search declares an empty body, yet pages like opportunities.
    if v2_group(group) == "contacts" && operation_id == "search-contacts-advanced" {
        return Some(Pagination::BodyPage {
            size: "pageLimit".into(),
        });
    }
    if b("page") && b("pageLimit") {
        return Some(Pagination::BodyPage {
            size: "pageLimit".into(),
        });
    }
    if b("page") && b("limit") && b("searchAfter") {
        return Some(Pagination::BodyPage {
            size: "limit".into(),
        });
    }
    if b("skip") && b("limit") {
        return Some(Pagination::SkipLimitBody);
    }
    if q("cursor") {
        return Some(Pagination::Cursor {
            param: "cursor".into(),
            response: "nextCursor".into(),
        });
    }
    if q("next") {
        return Some(Pagination::Cursor {
            param: "next".into(),
            response: "next".into(),
        });
    }
    for (param, response) in [
        ("lastMessageId", "lastMessageId"),
        ("lastFaqId", "lastFaqId"),
        ("lastKnowledgeBaseId", "lastKnowledgeBaseId"),
        ("lastDoc", "lastDoc"),
    ] {
        if q(param) {
            return Some(Pagination::LastId {
                param: param.into(),
                response: response.into(),
            });
        }
    }
    if q("startAfterDate") {
        return Some(Pagination::StartAfterDate);
    }
    if q("startAfter") && q("startAfterId") {
        return Some(Pagination::StartAfter);
    }
    if q("startAfter") {
        return Some(Pagination::LastId {
            param: "startAfter".into(),
            response: "startAfter".into(),
        });
    }
    if q("page") {
        for size in ["pageSize", "pageLength"] {
            if q(size) {
                return Some(Pagination::PageSize { size: size.into() });
            }
        }
        if q("limit") {
            return Some(Pagination::PageLimit);
        }
        // The social planner's OAuth start pages take a `page` that names a
        // screen, not a page of records.
        if !path.contains("/oauth/") {
            return Some(Pagination::PageOnly);
        }
    }
    if q("offset") && q("limit") {
        return Some(Pagination::OffsetLimit {
            limit: "limit".into(),
        });
    }
    if q("skip") && q("limit") {
        return Some(Pagination::SkipLimit {
            limit: "limit".into(),
        });
    }
    None
}

pub fn is_page_size(name: &str) -> bool {
    matches!(name, "limit" | "pageSize" | "pageLength" | "pageLimit")
}

/// A cap stated in words in a parameter's description: "will allow maximum
/// up to 100", "Maximum allowed value is 50", "(max 50)", "max 500".
pub fn stated_maximum(description: &str) -> Option<f64> {
    let lower = description.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("max") {
        rest = &rest[i + 3..];
        // The number must follow within the same clause.
        let clause: String = rest
            .chars()
            .take_while(|c| !matches!(c, '.' | ',' | ';' | ')'))
            .take(30)
            .collect();
        // A range ("(1-100)") states its maximum last.
        let last_number = clause
            .split(|c: char| !c.is_ascii_digit() && c != '-')
            .find(|w| w.chars().any(|c| c.is_ascii_digit()))
            .and_then(|w| w.rsplit('-').find(|n| !n.is_empty()))
            .map(str::to_string);
        if let Some(n) = last_number.and_then(|d| d.parse::<f64>().ok()) {
            return Some(n);
        }
    }
    None
}

/// `getContactByID`, `get contact`, `get_contact` -> `get-contact-by-id`.
pub fn kebab(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_ascii_uppercase()
                && i > 0
                && (chars[i - 1].is_ascii_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || (chars[i - 1].is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())));
            if boundary && !out.ends_with('-') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::kebab;

    #[test]
    fn stated_maxima() {
        use super::stated_maximum as m;
        assert_eq!(
            m("Limit Per Page records count. will allow maximum up to 100 and minimum 1"),
            Some(100.0)
        );
        assert_eq!(
            m("Maximum number of records to return. Maximum allowed value is 50."),
            Some(50.0)
        );
        assert_eq!(m("Page size (max 50)."), Some(50.0));
        assert_eq!(
            m("Maximum number of items to return (max 500)"),
            Some(500.0)
        );
        assert_eq!(m("Maximum number of brand boards to return"), None);
        assert_eq!(
            m("Max items per page (1-100). Replaces legacy `limit` parameter per AIP-158."),
            Some(100.0)
        );
        assert_eq!(
            m("Maximum number of campaigns to return. Defaults to 10, maximum is 100."),
            Some(100.0)
        );
    }

    #[test]
    fn kebab_cases() {
        assert_eq!(kebab("getContactByID"), "get-contact-by-id");
        assert_eq!(kebab("get-contact"), "get-contact");
        assert_eq!(
            kebab("create-integration provider"),
            "create-integration-provider"
        );
        assert_eq!(kebab("fb_get_pages"), "fb-get-pages");
    }
}
