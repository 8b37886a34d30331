//! Contacts: CRUD, upsert with HighLevel's duplicate rule, search, tags,
//! notes, tasks, workflow/campaign membership.

use std::cmp::Ordering;

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, created, filtered_search, merge, ok, owned, require, str_of};
use crate::contact_store as cs;
use crate::ids::{new_id, now_iso, parse_iso_ms};
use crate::reply::{ApiError, Reply};
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "contacts.create-contact" => create(c, ctx),
        "contacts.get-contact" => {
            get_contact(c, ctx, ctx.p("contactId")).map(|ct| (200, json!({"contact": ct})))
        }
        "contacts.update-contact" => update(c, ctx),
        "contacts.delete-contact" => delete(c, ctx),
        "contacts.upsert-contact" => upsert(c, ctx),
        "contacts.search-contacts-advanced" => search(c, ctx),
        "contacts.get-contacts" => list_deprecated(c, ctx),
        "contacts.get-duplicate-contact" => duplicate(c, ctx),
        "contacts.add-tags" => tags(c, ctx, true),
        "contacts.remove-tags" => tags(c, ctx, false),
        "contacts.get-all-notes" => children(c, ctx, "notes"),
        "contacts.get-note" => child(c, ctx, "notes", "note", "id"),
        "contacts.create-note" => create_child(c, ctx, "notes", "note"),
        "contacts.update-note" => update_child(c, ctx, "notes", "note", "id"),
        "contacts.delete-note" => delete_child(c, ctx, "notes", "id"),
        "contacts.get-all-tasks" => children(c, ctx, "tasks"),
        "contacts.get-task" => child(c, ctx, "tasks", "task", "taskId"),
        "contacts.create-task" => create_child(c, ctx, "tasks", "task"),
        "contacts.update-task" | "contacts.update-task-completed" => {
            update_child(c, ctx, "tasks", "task", "taskId")
        }
        "contacts.delete-task" => delete_child(c, ctx, "tasks", "taskId"),
        "contacts.add-contact-to-workflow" => membership(c, ctx, "workflows", "workflowId", true),
        "contacts.delete-contact-from-workflow" => {
            membership(c, ctx, "workflows", "workflowId", false)
        }
        "contacts.add-contact-to-campaign" => membership(c, ctx, "campaigns", "campaignId", true),
        "contacts.remove-contact-from-campaign" => {
            membership(c, ctx, "campaigns", "campaignId", false)
        }
        "contacts.remove-contact-from-every-campaign" => remove_all_campaigns(c, ctx),
        "contacts.get-appointments-for-contact" => appointments(c, ctx),
        _ => return None,
    })
}

pub fn get_contact(c: &Connection, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    let ct = cs::get(c, id)?.ok_or_else(|| ApiError::bad("Contact not found"))?;
    if str_of(&ct, "locationId") != ctx.location_id {
        return Err(ApiError::new(
            403,
            "The token does not have access to this location",
        ));
    }
    Ok(ct)
}

const FIELDS: [&str; 20] = [
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "companyName",
    "address1",
    "city",
    "state",
    "country",
    "postalCode",
    "website",
    "timezone",
    "source",
    "dateOfBirth",
    "assignedTo",
    "gender",
    "dnd",
    "dndSettings",
    "businessId",
];

/// Whether `value` fits the field's type and options, as HighLevel
/// checks a custom field value; the message says what does.
fn field_value_error(def: &Value, value: &Value) -> Option<String> {
    let name = str_of(def, "name");
    let options: Vec<&str> = def
        .get("picklistOptions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let in_options = |v: &Value| v.as_str().is_some_and(|s| options.contains(&s));
    let fits = match str_of(def, "dataType") {
        "SINGLE_OPTIONS" | "RADIO" | "DROPDOWN" if !options.is_empty() => in_options(value),
        "MULTIPLE_OPTIONS" | "CHECKBOX" if !options.is_empty() => match value {
            Value::Array(a) => a.iter().all(in_options),
            v => in_options(v),
        },
        "NUMERICAL" | "MONETORY" => {
            value.is_number()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<f64>().is_ok())
        }
        "DATE" => {
            value.is_i64()
                || value.as_str().is_some_and(|s| {
                    parse_iso_ms(s).is_some()
                        || (s.len() == 10 && parse_iso_ms(&format!("{s}T00:00:00Z")).is_some())
                })
        }
        _ => true,
    };
    (!fits).then(|| {
        if options.is_empty() {
            format!("{name}: {value} is not a valid {}", str_of(def, "dataType"))
        } else {
            format!("{name}: {value} is not one of {}", options.join(", "))
        }
    })
}

/// Normalise `customFields` input (`{id|key, value|field_value}`) to `{id, value}`.
fn custom_fields(
    c: &Connection,
    loc: &str,
    input: &Value,
    existing: &Value,
) -> Result<Value, ApiError> {
    let mut out: Vec<Value> = existing.as_array().cloned().unwrap_or_default();
    let Some(items) = input.as_array() else {
        return Ok(json!(out));
    };
    let defs = store::doc_list(c, "customFields", Some(loc), None)?;
    for it in items {
        let value = it
            .get("value")
            .or_else(|| it.get("field_value"))
            .cloned()
            .unwrap_or(Value::Null);
        let id = match it.get("id").and_then(Value::as_str) {
            Some(id) => Some(id.to_string()),
            None => it.get("key").and_then(Value::as_str).and_then(|k| {
                defs.iter()
                    .find(|d| {
                        let fk = str_of(d, "fieldKey");
                        fk == k || fk.strip_prefix("contact.") == Some(k)
                    })
                    .map(|d| str_of(d, "id").to_string())
            }),
        };
        if let Some(id) = id {
            if let Some(def) = defs.iter().find(|d| str_of(d, "id") == id)
                && let Some(why) = field_value_error(def, &value)
            {
                return Err(ApiError::invalid(vec![why]));
            }
            out.retain(|f| str_of(f, "id") != id);
            out.push(json!({"id": id, "value": value}));
        }
    }
    Ok(json!(out))
}

/// Apply request fields to a contact and recompute the derived ones.
fn apply(c: &Connection, ct: &mut Value, body: &Value) -> Result<(), ApiError> {
    for k in FIELDS {
        if let Some(v) = body.get(k) {
            ct[k] = v.clone();
        }
    }
    if let Some(tags) = body.get("tags").and_then(Value::as_array) {
        let mut seen = std::collections::HashSet::new();
        let t: Vec<String> = tags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .filter(|t| seen.insert(t.clone()))
            .collect();
        ct["tags"] = json!(t);
    }
    if let Some(cf) = body.get("customFields") {
        let loc = str_of(ct, "locationId").to_string();
        let existing = ct.get("customFields").cloned().unwrap_or(json!([]));
        ct["customFields"] = custom_fields(c, &loc, cf, &existing)?;
    }
    // `name` alone splits into first and last, as HighLevel does.
    if body.get("name").is_some()
        && body.get("firstName").is_none()
        && body.get("lastName").is_none()
    {
        let name = str_of(body, "name").to_string();
        let (f, l) = name.split_once(' ').unwrap_or((name.as_str(), ""));
        ct["firstName"] = json!(f);
        ct["lastName"] = json!(l);
    }
    let first = str_of(ct, "firstName").to_string();
    let last = str_of(ct, "lastName").to_string();
    let full = format!("{first} {last}").trim().to_string();
    ct["name"] = json!(full);
    ct["contactName"] = json!(full);
    ct["firstNameLowerCase"] = json!(first.to_lowercase());
    ct["lastNameLowerCase"] = json!(last.to_lowercase());
    ct["fullNameLowerCase"] = json!(full.to_lowercase());
    ct["emailLowerCase"] = json!(str_of(ct, "email").to_lowercase());
    ct["dateUpdated"] = json!(now_iso());
    Ok(())
}

pub fn new_contact(loc: &str) -> Value {
    let id = new_id();
    let now = now_iso();
    json!({
        "id": id, "locationId": loc, "firstName": "", "lastName": "", "email": "", "phone": "",
        "companyName": "", "tags": [], "customFields": [], "type": "lead", "source": "api",
        "dnd": false, "dndSettings": {}, "deleted": false, "dateAdded": now, "dateUpdated": now,
    })
}

fn duplicate_of(
    c: &Connection,
    loc: &str,
    body: &Value,
    skip: Option<&str>,
) -> rusqlite::Result<Option<(Value, &'static str)>> {
    if let Some(e) = body
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        && let Some(ct) = cs::find_by_email(c, loc, e)?
        && Some(str_of(&ct, "id")) != skip
    {
        return Ok(Some((ct, "email")));
    }
    if let Some(p) = body
        .get("phone")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        && let Some(ct) = cs::find_by_phone(c, loc, p)?
        && Some(str_of(&ct, "id")) != skip
    {
        return Ok(Some((ct, "phone")));
    }
    Ok(None)
}

fn dup_error(ct: &Value, field: &str) -> ApiError {
    ApiError::bad("This location does not allow duplicated contacts.").with(json!({
        "meta": {"contactName": str_of(ct, "name"), "contactId": str_of(ct, "id"), "matchingField": field}
    }))
}

/// HighLevel's location setting "Allow Duplicate Contact": when on,
/// creating and updating contacts no longer refuses a shared email or phone.
fn duplicates_allowed(c: &Connection, loc: &str) -> rusqlite::Result<bool> {
    Ok(store::doc_get(c, "locations", loc)?
        .and_then(|l| l.pointer("/settings/allowDuplicateContact").cloned())
        == Some(Value::Bool(true)))
}

fn create(c: &Connection, ctx: &Ctx) -> Reply {
    if !duplicates_allowed(c, &ctx.location_id)?
        && let Some((ct, field)) = duplicate_of(c, &ctx.location_id, &ctx.body, None)?
    {
        return Err(dup_error(&ct, field));
    }
    let mut ct = new_contact(&ctx.location_id);
    apply(c, &mut ct, &ctx.body)?;
    cs::put(c, &ct)?;
    ensure_location_tags(c, &ctx.location_id, &ct)?;
    created(json!({"contact": ct}))
}

fn update(c: &Connection, ctx: &Ctx) -> Reply {
    let mut ct = get_contact(c, ctx, ctx.p("contactId"))?;
    if !duplicates_allowed(c, &ctx.location_id)?
        && let Some((d, field)) =
            duplicate_of(c, &ctx.location_id, &ctx.body, Some(ctx.p("contactId")))?
    {
        return Err(dup_error(&d, field));
    }
    apply(c, &mut ct, &ctx.body)?;
    cs::put(c, &ct)?;
    ensure_location_tags(c, &ctx.location_id, &ct)?;
    ok(json!({"succeded": true, "contact": ct}))
}

fn delete(c: &Connection, ctx: &Ctx) -> Reply {
    get_contact(c, ctx, ctx.p("contactId"))?;
    cs::delete(c, ctx.p("contactId"))?;
    ok(json!({"succeded": true}))
}

/// Match an existing contact by email, else by phone; update it or create one.
fn upsert(c: &Connection, ctx: &Ctx) -> Reply {
    let found = duplicate_of(c, &ctx.location_id, &ctx.body, None)?;
    let (mut ct, is_new) = match found {
        Some((ct, _)) => (ct, false),
        None => (new_contact(&ctx.location_id), true),
    };
    apply(c, &mut ct, &ctx.body)?;
    cs::put(c, &ct)?;
    ensure_location_tags(c, &ctx.location_id, &ct)?;
    ok(json!({"new": is_new, "contact": ct, "traceId": new_id()}))
}

/// Tags used on contacts exist as location tags too.
fn ensure_location_tags(c: &Connection, loc: &str, ct: &Value) -> rusqlite::Result<()> {
    let Some(tags) = ct.get("tags").and_then(Value::as_array) else {
        return Ok(());
    };
    if tags.is_empty() {
        return Ok(());
    }
    let mut known: std::collections::HashSet<String> = store::doc_list(c, "tags", Some(loc), None)?
        .iter()
        .map(|e| str_of(e, "name").to_string())
        .collect();
    let fresh: Vec<Value> = tags
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| known.insert(t.to_string()))
        .map(|t| json!([new_id(), t]))
        .collect();
    store::tags_put_many(c, loc, &fresh)?;
    Ok(())
}

fn sort_value(ct: &Value, field: &str) -> Value {
    match field {
        "firstName" | "firstNameLowerCase" => json!(str_of(ct, "firstName").to_lowercase()),
        "lastName" | "lastNameLowerCase" => json!(str_of(ct, "lastName").to_lowercase()),
        _ => json!(parse_iso_ms(str_of(ct, "dateAdded")).unwrap_or(0)),
    }
}

/// The top-level fields of a contact that [`sort_value`] and [`matches`]
/// read for `filters` (keep in step with them).
fn fields_read(filters: &[Value], out: &mut std::collections::HashSet<String>) {
    for name in ["firstName", "lastName", "dateAdded"] {
        out.insert(name.to_string());
    }
    for f in filters {
        if let Some(group) = f.get("filters").and_then(Value::as_array) {
            fields_read(group, out);
            continue;
        }
        let field = str_of(f, "field");
        let top = if field.starts_with("customFields.") {
            "customFields"
        } else {
            field
        };
        out.insert(top.to_string());
    }
}

/// One filter (or a nested group) of POST /contacts/search.
fn matches(ct: &Value, f: &Value) -> bool {
    if let Some(group) = f.get("filters").and_then(Value::as_array) {
        let or = f
            .get("group")
            .and_then(Value::as_str)
            .is_some_and(|g| g.eq_ignore_ascii_case("or"));
        return if or {
            group.iter().any(|g| matches(ct, g))
        } else {
            group.iter().all(|g| matches(ct, g))
        };
    }
    let field = str_of(f, "field");
    let op = f.get("operator").and_then(Value::as_str).unwrap_or("eq");
    let want = f.get("value").cloned().unwrap_or(Value::Null);
    let actual = match field {
        "tags" => ct.get("tags").cloned().unwrap_or(json!([])),
        "dnd" => ct.get("dnd").cloned().unwrap_or(json!(false)),
        f if f.starts_with("customFields.") => {
            let id = &f["customFields.".len()..];
            ct.get("customFields")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|x| str_of(x, "id") == id))
                .and_then(|x| x.get("value").cloned())
                .unwrap_or(Value::Null)
        }
        f => ct.get(f).cloned().unwrap_or(Value::Null),
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string().to_lowercase(),
    };
    let wants: Vec<Value> = match &want {
        Value::Array(a) => a.clone(),
        v => vec![v.clone()],
    };
    let hit = |w: &Value, contains: bool| -> bool {
        match &actual {
            Value::Array(items) => items.iter().any(|i| {
                if contains {
                    text(i).contains(&text(w))
                } else {
                    text(i) == text(w)
                }
            }),
            Value::Bool(b) => w
                .as_bool()
                .map(|x| x == *b)
                .unwrap_or_else(|| text(w) == b.to_string()),
            a => {
                if contains {
                    text(a).contains(&text(w))
                } else {
                    text(a) == text(w)
                }
            }
        }
    };
    let empty = match &actual {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    match op {
        "eq" => wants.iter().any(|w| hit(w, false)),
        "not_eq" => !wants.iter().any(|w| hit(w, false)),
        "contains" => wants.iter().any(|w| hit(w, true)),
        "not_contains" => !wants.iter().any(|w| hit(w, true)),
        "exists" => !empty,
        "not_exists" => empty,
        "range" => range(&actual, op, &want),
        _ => false,
    }
}

fn range(actual: &Value, op: &str, want: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .or_else(|| parse_iso_ms(s).map(|m| m as f64)),
        _ => None,
    };
    let Some(a) = num(actual) else { return false };
    match op {
        "gt" => num(want).is_some_and(|w| a > w),
        "gte" => num(want).is_some_and(|w| a >= w),
        "lt" => num(want).is_some_and(|w| a < w),
        "lte" => num(want).is_some_and(|w| a <= w),
        _ => {
            // `gt` and `lt` leave their bound out: two ranges that meet at
            // a date share no record.
            let bound = |k: &str| want.get(k).and_then(num);
            bound("gte").is_none_or(|l| a >= l)
                && bound("gt").is_none_or(|l| a > l)
                && bound("lte").is_none_or(|h| a <= h)
                && bound("lt").is_none_or(|h| a < h)
        }
    }
}

/// The most records numbered search pages reach.
pub(super) const SEARCH_WINDOW: u64 = 10_000;

fn search(c: &Connection, ctx: &Ctx) -> Reply {
    let mut errors = Vec::new();
    if ctx.b_str("locationId").is_none() {
        errors.push("locationId should not be empty".to_string());
    }
    let page_limit = ctx.b_num("pageLimit");
    match page_limit {
        None => errors.push("pageLimit should not be empty".to_string()),
        Some(l) if !(1.0..=500.0).contains(&l) => {
            errors.push("pageLimit must not be greater than 500".to_string())
        }
        _ => {}
    }
    if let Some(f) = ctx.b("filters")
        && let Err(why) = ghl_catalog::contact_search::check_filters(f)
    {
        errors.push(why);
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let limit = page_limit.unwrap_or(20.0) as u64;
    let page = ctx.b_num("page").unwrap_or(1.0).max(1.0) as u64;
    let (sort_field, asc) = ctx
        .b("sort")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .map(|s| {
            (
                str_of(s, "field").to_string(),
                str_of(s, "direction").eq_ignore_ascii_case("asc"),
            )
        })
        .unwrap_or_else(|| ("dateAdded".to_string(), false));
    let col = cs::sort_column(&sort_field).ok_or_else(|| {
        ApiError::invalid(vec![format!("sort field `{sort_field}` is not sortable")])
    })?;
    let query = ctx.b_str("query");
    let filters: Vec<Value> = ctx
        .b("filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (added, filters) = super::added_range::take(filters);
    let search_after = ctx
        .b("searchAfter")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2);
    // Numbered pages reach the first 10,000 records; deeper ones need
    // `searchAfter`, as on HighLevel.
    if search_after.is_none() && page * limit > SEARCH_WINDOW {
        return Err(ApiError::invalid(vec![format!(
            "page * pageLimit must not be greater than {SEARCH_WINDOW}: use searchAfter to go further"
        )]));
    }

    let (rows, total) = if filters.is_empty() {
        // Everything in SQL: count, order, keyset or offset.
        let after = search_after.map(|a| {
            (
                cursor_value(col, &a[0]),
                a[1].as_str().unwrap_or("").to_string(),
            )
        });
        let offset = if after.is_some() {
            0
        } else {
            (page - 1) * limit
        };
        let p = cs::query(
            c,
            &ctx.location_id,
            query,
            col,
            asc,
            after.as_ref().map(|(v, id)| (v.as_str(), id.as_str())),
            offset,
            Some(limit),
            &added,
        )?;
        (p.rows, p.total)
    } else {
        let search = filtered_search::Search {
            loc: &ctx.location_id,
            query,
            col,
            sort_field: &sort_field,
            asc,
            added: &added,
            filters: &filters,
        };
        let mut fields = std::collections::HashSet::new();
        fields_read(&filters, &mut fields);
        let all = filtered_search::hits(
            c,
            &search,
            &fields,
            |ct| filters.iter().all(|f| matches(ct, f)),
            |ct| sort_value(ct, &sort_field),
        )?;
        let total = all.len() as u64;
        let on_page: Vec<&filtered_search::Hit> = if let Some(a) = search_after {
            let key = (a[0].clone(), a[1].as_str().unwrap_or("").to_string());
            all.iter()
                .filter(|h| {
                    let ord =
                        cmp_json(&h.key, &key.0).then_with(|| h.id.as_str().cmp(key.1.as_str()));
                    if asc {
                        ord == Ordering::Greater
                    } else {
                        ord == Ordering::Less
                    }
                })
                .take(limit as usize)
                .collect()
        } else {
            all.iter()
                .skip(((page - 1) * limit) as usize)
                .take(limit as usize)
                .collect()
        };
        let mut rows = Vec::with_capacity(on_page.len());
        for h in on_page {
            rows.extend(h.read(c)?);
        }
        (rows, total)
    };
    let contacts: Vec<Value> = rows
        .into_iter()
        .map(|mut ct| {
            ct["searchAfter"] = json!([sort_value(&ct, &sort_field), str_of(&ct, "id")]);
            ct
        })
        .collect();
    ok(json!({"contacts": contacts, "total": total}))
}

/// A searchAfter sort value as the SQL column stores it.
fn cursor_value(col: &str, v: &Value) -> String {
    if col == "date_added" {
        let ms = v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0);
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .map(crate::ids::iso)
            .unwrap_or_default()
    } else {
        v.as_str().map(str::to_lowercase).unwrap_or_default()
    }
}

fn cmp_json(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.as_str().unwrap_or("").cmp(b.as_str().unwrap_or("")),
    }
}

/// Deprecated GET /contacts/: startAfter (ms) + startAfterId keyset, oldest first.
fn list_deprecated(c: &Connection, ctx: &Ctx) -> Reply {
    let limit = ctx.q_num("limit").unwrap_or(20).clamp(1, 100) as u64;
    let after = match (ctx.q("startAfterId"), ctx.q_num("startAfter")) {
        (Some(id), Some(ms)) => Some((cursor_value("date_added", &json!(ms)), id.to_string())),
        (Some(id), None) => {
            cs::get(c, id)?.map(|ct| (str_of(&ct, "dateAdded").to_string(), id.to_string()))
        }
        _ => None,
    };
    let p = cs::query(
        c,
        &ctx.location_id,
        ctx.q("query"),
        "date_added",
        true,
        after.as_ref().map(|(v, id)| (v.as_str(), id.as_str())),
        0,
        Some(limit),
        &cs::AddedIn::default(),
    )?;
    let last = p.rows.last().map(|ct| {
        (
            str_of(ct, "id").to_string(),
            parse_iso_ms(str_of(ct, "dateAdded")).unwrap_or(0),
        )
    });
    let more = p.rows.len() as u64 == limit;
    let next_url = match (&last, more) {
        (Some((id, ms)), true) => Value::String(format!(
            "{}/contacts/?locationId={}&startAfter={ms}&startAfterId={id}&limit={limit}",
            ctx.base_url, ctx.location_id
        )),
        _ => Value::Null,
    };
    ok(json!({
        "contacts": p.rows,
        "meta": {
            "total": p.total,
            "nextPageUrl": next_url,
            "startAfterId": last.as_ref().map(|l| l.0.clone()),
            "startAfter": last.as_ref().map(|l| l.1),
            "currentPage": 1,
            "nextPage": if more { json!(2) } else { Value::Null },
            "prevPage": Value::Null,
        }
    }))
}

fn duplicate(c: &Connection, ctx: &Ctx) -> Reply {
    let mut found = None;
    if let Some(e) = ctx.q("email") {
        found = cs::find_by_email(c, &ctx.location_id, e)?;
    }
    if found.is_none()
        && let Some(n) = ctx.q("number")
    {
        found = cs::find_by_phone(c, &ctx.location_id, n)?;
    }
    ok(json!({"contact": found}))
}

fn tags(c: &Connection, ctx: &Ctx, add: bool) -> Reply {
    let mut ct = get_contact(c, ctx, ctx.p("contactId"))?;
    let mut current: Vec<String> = ct["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let given: Vec<String> = ctx
        .b("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    if add {
        for t in given {
            if !current.contains(&t) {
                current.push(t);
            }
        }
    } else {
        current.retain(|t| !given.contains(t));
    }
    ct["tags"] = json!(current);
    ct["dateUpdated"] = json!(now_iso());
    cs::put(c, &ct)?;
    ensure_location_tags(c, &ctx.location_id, &ct)?;
    ok(json!({"tags": current, "tagsAdded": if add { ctx.b("tags").cloned() } else { None }}))
}

fn children(c: &Connection, ctx: &Ctx, coll: &str) -> Reply {
    let cid = ctx.p("contactId");
    get_contact(c, ctx, cid)?;
    let items = store::doc_list(c, coll, None, Some(cid))?;
    ok(json!({ coll: items }))
}

fn child(c: &Connection, ctx: &Ctx, coll: &str, key: &str, id_param: &str) -> Reply {
    get_contact(c, ctx, ctx.p("contactId"))?;
    let doc = require(store::doc_get(c, coll, ctx.p(id_param))?)?;
    if str_of(&doc, "contactId") != ctx.p("contactId") {
        return Err(ApiError::not_found());
    }
    ok(json!({ key: doc }))
}

fn create_child(c: &Connection, ctx: &Ctx, coll: &str, key: &str) -> Reply {
    let cid = ctx.p("contactId");
    get_contact(c, ctx, cid)?;
    let id = new_id();
    let mut doc = json!({"id": id, "contactId": cid, "dateAdded": now_iso()});
    if coll == "tasks" {
        doc["completed"] = json!(false);
    }
    merge(&mut doc, &ctx.body);
    store::doc_put(c, coll, &id, Some(&ctx.location_id), Some(cid), &doc)?;
    created(json!({ key: doc }))
}

fn update_child(c: &Connection, ctx: &Ctx, coll: &str, key: &str, id_param: &str) -> Reply {
    let cid = ctx.p("contactId");
    get_contact(c, ctx, cid)?;
    let mut doc = require(store::doc_get(c, coll, ctx.p(id_param))?)?;
    merge(&mut doc, &ctx.body);
    doc["id"] = json!(ctx.p(id_param));
    doc["contactId"] = json!(cid);
    store::doc_put(
        c,
        coll,
        ctx.p(id_param),
        Some(&ctx.location_id),
        Some(cid),
        &doc,
    )?;
    ok(json!({ key: doc }))
}

fn delete_child(c: &Connection, ctx: &Ctx, coll: &str, id_param: &str) -> Reply {
    get_contact(c, ctx, ctx.p("contactId"))?;
    if !store::doc_delete(c, coll, ctx.p(id_param))? {
        return Err(ApiError::not_found());
    }
    ok(json!({"succeded": true}))
}

fn membership(c: &Connection, ctx: &Ctx, coll: &str, id_param: &str, add: bool) -> Reply {
    let cid = ctx.p("contactId");
    let target = ctx.p(id_param);
    get_contact(c, ctx, cid)?;
    owned(c, ctx, coll, target)?;
    let key = format!("{cid}:{target}");
    let member_coll = format!("{coll}:members");
    if add {
        let mut doc = json!({"contactId": cid, "id": target, "addedAt": now_iso()});
        merge(&mut doc, &ctx.body);
        store::doc_put(
            c,
            &member_coll,
            &key,
            Some(&ctx.location_id),
            Some(cid),
            &doc,
        )?;
    } else {
        store::doc_delete(c, &member_coll, &key)?;
    }
    ok(json!({"succeded": true}))
}

fn remove_all_campaigns(c: &Connection, ctx: &Ctx) -> Reply {
    let cid = ctx.p("contactId");
    get_contact(c, ctx, cid)?;
    for m in store::doc_list(c, "campaigns:members", None, Some(cid))? {
        store::doc_delete(
            c,
            "campaigns:members",
            &format!("{cid}:{}", str_of(&m, "id")),
        )?;
    }
    ok(json!({"succeded": true}))
}

fn appointments(c: &Connection, ctx: &Ctx) -> Reply {
    let cid = ctx.p("contactId");
    get_contact(c, ctx, cid)?;
    let events: Vec<Value> = store::doc_list(c, "appointments", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|a| str_of(a, "contactId") == cid)
        .collect();
    ok(json!({"events": events}))
}
