//! Previews a person can judge: one sentence naming who or what a
//! destructive or outbound call touches ("Send SMS to Jane Doe
//! (+1 312 555 1001): 'See you Tuesday at 3'"), resolved by a read before
//! any confirmation is offered. A call that cannot succeed (unknown
//! contact, do-not-disturb on the channel, no phone to text) gets an error
//! instead of a token.
//!
//! The sentences are data ([`TEMPLATES`]), one per operation (and, where an
//! argument changes the meaning, per value of it); anything else gets the
//! operation's title.

use ghl_catalog::Operation;
use ghl_core::{CallArgs, Client, Error, ErrorCode};
use serde_json::{Map, Value};

/// The read that finds the record a sentence names.
pub struct Lookup {
    /// A read operation taking the same id parameter.
    pub op: &'static str,
    /// The id's parameter name, in the call and in the read.
    pub id: &'static str,
    /// Keys the record may be wrapped in (`{"contact": {...}}`); the body
    /// itself when none matches.
    pub record: &'static [&'static str],
    /// What the record is, for errors ("contact").
    pub noun: &'static str,
    /// The tool that finds such records, for errors.
    pub finder: &'static str,
}

pub struct Template {
    pub op: &'static str,
    /// Applies only when this argument has this value (case-insensitive).
    pub when: Option<(&'static str, &'static str)>,
    pub lookup: Option<Lookup>,
    /// The channel whose do-not-disturb setting refuses the call.
    pub dnd: Option<&'static str>,
    /// Record fields the call cannot do without (a phone to text).
    pub needs: &'static [&'static str],
    /// `{a|b}` takes the first present of a, b; `arg.x` is the call's
    /// argument x, anything else a field of the looked-up record; `name` is
    /// a person's display name and `phone` is shown grouped.
    pub sentence: &'static str,
}

const CONTACT: Lookup = Lookup {
    op: "contacts.get-contact",
    id: "contactId",
    record: &["contact"],
    noun: "contact",
    finder: "search_contacts",
};

pub const TEMPLATES: &[Template] = &[
    Template {
        op: "conversations.send-a-new-message",
        when: Some(("type", "SMS")),
        lookup: Some(CONTACT),
        dnd: Some("SMS"),
        needs: &["phone"],
        sentence: "Send SMS to {name} ({phone}): '{arg.message}'",
    },
    Template {
        op: "conversations.send-a-new-message",
        when: Some(("type", "Email")),
        lookup: Some(CONTACT),
        dnd: Some("Email"),
        needs: &["email"],
        sentence: "Send email to {name} ({arg.emailTo|email}): '{arg.subject}'",
    },
    Template {
        op: "contacts.delete-contact",
        when: None,
        lookup: Some(CONTACT),
        dnd: None,
        needs: &[],
        sentence: "Delete contact {name} ({email|phone|id})",
    },
    Template {
        op: "contacts.remove-tags",
        when: None,
        lookup: Some(CONTACT),
        dnd: None,
        needs: &[],
        sentence: "Remove tags {arg.tags} from {name} ({email|phone|id})",
    },
    Template {
        op: "calendars.edit-appointment",
        when: Some(("appointmentStatus", "cancelled")),
        lookup: Some(Lookup {
            op: "calendars.get-appointment",
            id: "eventId",
            record: &["event", "appointment"],
            noun: "appointment",
            finder: "list_contact_appointments",
        }),
        dnd: None,
        needs: &[],
        sentence: "Cancel appointment '{title|id}' at {startTime}",
    },
    Template {
        op: "calendars.delete-event",
        when: None,
        lookup: Some(Lookup {
            op: "calendars.get-appointment",
            id: "eventId",
            record: &["event", "appointment"],
            noun: "appointment",
            finder: "list_contact_appointments",
        }),
        dnd: None,
        needs: &[],
        sentence: "Delete appointment '{title|id}' at {startTime}",
    },
    Template {
        op: "invoices.send-invoice",
        when: None,
        lookup: Some(Lookup {
            op: "invoices.get-invoice",
            id: "invoiceId",
            record: &["invoice"],
            noun: "invoice",
            finder: "list_invoices",
        }),
        dnd: None,
        needs: &[],
        sentence: "Send invoice '{name|invoiceNumber|id}' ({total|amountDue} {currency}) to {contactDetails.name} by {arg.action}",
    },
];

/// The template for a call, if one is declared.
pub fn template(op: &str, args: &Map<String, Value>) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| {
        t.op == op
            && t.when.is_none_or(|(k, v)| {
                args.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(v))
            })
    })
}

/// A call's arguments as one map: parameters, then body fields.
pub fn flat_args(args: &CallArgs) -> Map<String, Value> {
    let mut m = args.params.clone();
    if let Some(Value::Object(b)) = &args.body {
        for (k, v) in b {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    m
}

/// The sentence for a call, after the read its template asks for; an error
/// when the call cannot succeed.
pub async fn sentence(client: &Client, op: &Operation, args: &CallArgs) -> Result<String, Error> {
    let flat = flat_args(args);
    let Some(t) = template(&op.name, &flat) else {
        return Ok(fallback(op, &flat));
    };
    let record = match &t.lookup {
        Some(l) => lookup(client, l, &flat).await?,
        None => Value::Null,
    };
    if let Some(channel) = t.dnd
        && dnd_on(&record, channel)
    {
        return Err(Error::new(
            ErrorCode::Policy,
            format!(
                "{} has do-not-disturb on for {channel}: HighLevel would refuse, so nothing was prepared",
                display_name(&record)
            ),
        )
        .with_hint("tell the user; another channel may be allowed (get_contact shows dnd and dndSettings)"));
    }
    for field in t.needs {
        if text_of(&record, field).is_none() {
            return Err(Error::validation(format!(
                "{} has no {field}: nothing was prepared",
                display_name(&record)
            ))
            .with_hint(format!(
                "add one with update_contact {{contactId, {field}}} first"
            )));
        }
    }
    Ok(render(t.sentence, &record, &flat))
}

/// Runs the template's read; an unknown record is an error naming the
/// tool that finds the right one.
async fn lookup(client: &Client, l: &Lookup, args: &Map<String, Value>) -> Result<Value, Error> {
    let Some(id) = args.get(l.id).and_then(Value::as_str) else {
        return Err(Error::validation(format!("{} is required", l.id)));
    };
    let req = client.prepare(l.op, &CallArgs::new().param(l.id, id))?;
    let body = client.execute(&req).await.map_err(|e| {
        if e.code == ErrorCode::NotFound {
            Error::new(
                ErrorCode::NotFound,
                format!("there is no {} {id}: nothing was prepared", l.noun),
            )
            .with_hint(format!("{} finds the right id", l.finder))
        } else {
            e
        }
    })?;
    Ok(l.record
        .iter()
        .find_map(|k| body.get(*k).filter(|v| v.is_object()).cloned())
        .unwrap_or(body))
}

fn fallback(op: &Operation, args: &Map<String, Value>) -> String {
    let target = ["contactId", "id", "eventId", "invoiceId"]
        .iter()
        .find_map(|k| {
            args.get(*k)
                .and_then(Value::as_str)
                .map(|v| format!(" {v}"))
        })
        .unwrap_or_default();
    format!("{}{target} ({} {})", op.title, op.method.as_str(), op.path)
}

/// HighLevel's do-not-disturb: the global switch, or the channel's own
/// setting marked active.
fn dnd_on(record: &Value, channel: &str) -> bool {
    if record.get("dnd").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    record
        .get("dndSettings")
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(channel))
                .map(|(_, v)| v)
        })
        .and_then(|s| s.get("status"))
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("active"))
}

fn text_of(v: &Value, path: &str) -> Option<String> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    match cur {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) if !a.is_empty() => Some(
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    }
}

/// A person's name as people write it.
pub fn display_name(record: &Value) -> String {
    let first = text_of(record, "firstName").unwrap_or_default();
    let last = text_of(record, "lastName").unwrap_or_default();
    let joined = format!("{first} {last}").trim().to_string();
    if !joined.is_empty() {
        return joined;
    }
    ["name", "contactName", "email", "phone", "id"]
        .iter()
        .find_map(|k| text_of(record, k))
        .unwrap_or_else(|| "the contact".into())
}

/// North American numbers grouped as people read them: +1 312 555 1001.
pub fn grouped_phone(p: &str) -> String {
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    if p.starts_with("+1") && digits.len() == 11 {
        return format!("+1 {} {} {}", &digits[1..4], &digits[4..7], &digits[7..]);
    }
    p.to_string()
}

/// Longest argument text quoted whole in a sentence.
const MAX_QUOTE: usize = 300;

fn render(template: &str, record: &Value, args: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let slot = &rest[start + 1..start + len];
        out.push_str(&fill(slot, record, args));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn fill(slot: &str, record: &Value, args: &Map<String, Value>) -> String {
    for key in slot.split('|') {
        let found = if let Some(arg) = key.strip_prefix("arg.") {
            text_of(&Value::Object(args.clone()), arg)
        } else if key == "name" {
            Some(display_name(record))
        } else if key == "phone" {
            text_of(record, "phone").map(|p| grouped_phone(&p))
        } else {
            text_of(record, key)
        };
        if let Some(s) = found {
            if s.chars().count() > MAX_QUOTE {
                let cut: String = s.chars().take(MAX_QUOTE).collect();
                return format!("{cut}…");
            }
            return s;
        }
    }
    "(not set)".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_names_phones_and_alternatives() {
        let r = json!({"firstName": "Jane", "lastName": "Doe", "phone": "+13125551001"});
        let mut a = Map::new();
        a.insert("message".into(), json!("See you Tuesday at 3"));
        assert_eq!(
            render("Send SMS to {name} ({phone}): '{arg.message}'", &r, &a),
            "Send SMS to Jane Doe (+1 312 555 1001): 'See you Tuesday at 3'"
        );
        assert_eq!(render("({email|phone})", &r, &a), "(+1 312 555 1001)");
        assert!(dnd_on(
            &json!({"dndSettings": {"SMS": {"status": "active"}}}),
            "SMS"
        ));
        assert!(!dnd_on(
            &json!({"dndSettings": {"SMS": {"status": "inactive"}}}),
            "SMS"
        ));
        assert!(
            template("conversations.send-a-new-message", &{
                let mut m = Map::new();
                m.insert("type".into(), json!("sms"));
                m
            })
            .is_some()
        );
    }
}
