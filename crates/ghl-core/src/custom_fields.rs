//! Custom fields by key. People and assistants know a field as
//! `contact.lead_source` (or just `lead_source`), the API wants its id. This
//! resolves keys against the location's own definitions
//! (`locations.get-custom-fields`), fetched once per location and cached, and
//! annotates API results with the key and name next to each id.
//!
//! Every lookup goes through [`Client`], so policy and rate limits apply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::args::CallArgs;
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};

/// The operation that lists a location's custom fields.
pub const LIST_OPERATION: &str = "locations.get-custom-fields";

/// One custom field definition.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomField {
    pub id: String,
    pub name: String,
    /// `contact.lead_source`, `opportunity.budget`.
    pub key: String,
    pub data_type: Option<String>,
    /// `contact` or `opportunity`.
    pub model: Option<String>,
    /// The choices of an options field (`picklistOptions`).
    pub options: Vec<String>,
}

impl CustomField {
    /// The key without its model prefix: `lead_source`.
    pub fn short_key(&self) -> &str {
        self.key
            .split_once('.')
            .map(|(_, k)| k)
            .unwrap_or(&self.key)
    }

    fn from_json(v: &Value) -> Option<CustomField> {
        let id = v.get("id").or_else(|| v.get("_id"))?.as_str()?.to_string();
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Some(CustomField {
            name: text("name").unwrap_or_default(),
            key: text("fieldKey").or_else(|| text("key")).unwrap_or_default(),
            data_type: text("dataType"),
            model: text("model"),
            options: v
                .get("picklistOptions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|o| {
                            o.as_str()
                                .or_else(|| o.get("label").and_then(Value::as_str))
                                .map(String::from)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            id,
        })
    }
}

/// The custom fields of one location.
#[derive(Debug, Clone, Default)]
pub struct FieldSet {
    pub fields: Vec<CustomField>,
}

impl FieldSet {
    /// Parse the body of `locations.get-custom-fields`.
    pub fn from_body(body: &Value) -> FieldSet {
        let list = body
            .get("customFields")
            .and_then(Value::as_array)
            .or_else(|| body.as_array());
        FieldSet {
            fields: list
                .map(|a| a.iter().filter_map(CustomField::from_json).collect())
                .unwrap_or_default(),
        }
    }

    pub fn by_id(&self, id: &str) -> Option<&CustomField> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Find a field by id, full key (`contact.lead_source`), short key
    /// (`lead_source`, preferring `model`'s field when two models share it)
    /// or, last, its display name (case-insensitive).
    pub fn find(&self, wanted: &str, model: Option<&str>) -> Option<&CustomField> {
        let w = wanted.trim();
        if let Some(f) = self
            .by_id(w)
            .or_else(|| self.fields.iter().find(|f| f.key == w))
        {
            return Some(f);
        }
        let short: Vec<&CustomField> = self.fields.iter().filter(|f| f.short_key() == w).collect();
        if let Some(m) = model
            && let Some(f) = short.iter().find(|f| f.key.starts_with(&format!("{m}.")))
        {
            return Some(f);
        }
        if let Some(f) = short.first() {
            return Some(f);
        }
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(w))
    }

    /// Turn `{"contact.lead_source": "Ads"}` into the API's
    /// `[{"id": "...", "key": "contact.lead_source", "field_value": "Ads"}]`.
    /// An unknown key is an error that lists the keys that exist.
    pub fn resolve(&self, input: &Map<String, Value>, model: Option<&str>) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(input.len());
        for (k, v) in input {
            let Some(f) = self.find(k, model) else {
                let mut known: Vec<&str> = self.fields.iter().map(|f| f.key.as_str()).collect();
                known.truncate(40);
                return Err(
                    Error::validation(format!("no custom field with key {k}")).with_hint(
                        if known.is_empty() {
                            "this location has no custom fields".to_string()
                        } else {
                            format!("known keys: {}", known.join(", "))
                        },
                    ),
                );
            };
            let v = crate::field_values::check(f, v)?;
            let mut item = json!({"id": f.id, "field_value": v});
            if !f.key.is_empty() {
                item["key"] = json!(f.key);
            }
            out.push(item);
        }
        Ok(out)
    }

    /// Add `key` and `name` next to each `id` in every `customFields` array
    /// found in `v` (contacts, opportunities, nested or in lists).
    pub fn annotate(&self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if (k == "customFields" || k == "customField")
                        && let Value::Array(items) = child
                    {
                        for item in items.iter_mut() {
                            self.annotate_item(item);
                        }
                    } else {
                        self.annotate(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.annotate(i)),
            _ => {}
        }
    }

    fn annotate_item(&self, item: &mut Value) {
        let Some(obj) = item.as_object_mut() else {
            return;
        };
        let Some(f) = obj
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| self.by_id(id))
        else {
            return;
        };
        let (key, name) = (f.key.clone(), f.name.clone());
        if !key.is_empty() {
            obj.entry("key").or_insert(json!(key));
        }
        if !name.is_empty() {
            obj.entry("name").or_insert(json!(name));
        }
    }
}

/// Fetches each location's custom fields once and keeps them. Cheap to
/// clone; clones share the cache.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    cache: Arc<Mutex<HashMap<String, Arc<FieldSet>>>>,
}

impl Resolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// The custom fields of `location`, from the cache or the API.
    pub async fn fields(&self, client: &Client, location: &str) -> Result<Arc<FieldSet>> {
        if let Some(set) = self.cached(location) {
            return Ok(set);
        }
        // A lookup is a read: it runs even under --dry-run, so the preview
        // shows real ids rather than keys.
        let mut policy = client.policy().clone();
        policy.dry_run = false;
        let body = client
            .with_policy(policy)
            .call(
                LIST_OPERATION,
                CallArgs::new().param("locationId", location),
            )
            .await
            .map_err(|e| {
                let mut e = e;
                if e.code != ErrorCode::MissingScope {
                    e.message = format!("could not look up custom fields: {}", e.message);
                }
                e
            })?;
        let set = Arc::new(FieldSet::from_body(&body));
        if let Ok(mut c) = self.cache.lock() {
            c.insert(location.to_string(), set.clone());
        }
        Ok(set)
    }

    /// Only what is already cached (no request).
    pub fn cached(&self, location: &str) -> Option<Arc<FieldSet>> {
        self.cache.lock().ok()?.get(location).cloned()
    }

    /// Forget a location's fields (after creating or renaming one).
    pub fn invalidate(&self, location: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(location);
        }
    }

    /// Resolve keys to the API's array form, for `location`.
    pub async fn resolve(
        &self,
        client: &Client,
        location: &str,
        input: &Map<String, Value>,
        model: Option<&str>,
    ) -> Result<Vec<Value>> {
        if input.is_empty() {
            return Ok(Vec::new());
        }
        let set = self.fields(client, location).await?;
        match set.resolve(input, model) {
            Ok(v) => Ok(v),
            Err(e) if !e.message.starts_with("no custom field") => Err(e),
            Err(_) => {
                // The field may have been created since the cache was filled.
                self.invalidate(location);
                self.fields(client, location).await?.resolve(input, model)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> FieldSet {
        FieldSet::from_body(&json!({"customFields": [
            {"id": "f1", "name": "Lead Source", "fieldKey": "contact.lead_source", "dataType": "TEXT", "model": "contact"},
            {"id": "f2", "name": "Budget", "fieldKey": "opportunity.budget", "model": "opportunity"},
            {"id": "f3", "name": "Budget", "fieldKey": "contact.budget", "model": "contact"},
        ]}))
    }

    #[test]
    fn finds_by_key_short_key_id_and_name() {
        let s = set();
        assert_eq!(
            s.find("contact.lead_source", None).map(|f| &f.id[..]),
            Some("f1")
        );
        assert_eq!(s.find("lead_source", None).map(|f| &f.id[..]), Some("f1"));
        assert_eq!(s.find("f2", None).map(|f| &f.id[..]), Some("f2"));
        assert_eq!(
            s.find("budget", Some("contact")).map(|f| &f.id[..]),
            Some("f3")
        );
        assert_eq!(s.find("lead source", None).map(|f| &f.id[..]), Some("f1"));
        assert!(s.find("nope", None).is_none());
    }

    #[test]
    fn resolves_and_annotates() {
        let s = set();
        let mut input = Map::new();
        input.insert("lead_source".into(), json!("Ads"));
        let out = s.resolve(&input, Some("contact")).unwrap();
        assert_eq!(
            out,
            vec![json!({"id": "f1", "key": "contact.lead_source", "field_value": "Ads"})]
        );
        let mut bad = Map::new();
        bad.insert("missing".into(), json!(1));
        let e = s.resolve(&bad, None).unwrap_err();
        assert!(e.hint.clone().unwrap().contains("contact.lead_source"));

        let mut v =
            json!({"contact": {"customFields": [{"id": "f1", "value": "Ads"}, {"id": "zz"}]}});
        s.annotate(&mut v);
        assert_eq!(
            v["contact"]["customFields"][0]["key"],
            "contact.lead_source"
        );
        assert_eq!(v["contact"]["customFields"][0]["name"], "Lead Source");
        assert!(v["contact"]["customFields"][1].get("key").is_none());
    }
}
