//! Corrections to the published specs (`errata.toml` beside this crate),
//! applied to the raw spec documents before anything reads them: by the
//! generator (`cargo xtask catalog`) and by the contract test's copy of the
//! specs for Prism. Each change states what the spec says today (`was`), so
//! an erratum that no longer matches the spec stops the build instead of
//! silently rewriting something else or silently dropping a check.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct Errata {
    #[serde(rename = "erratum", default)]
    pub entries: Vec<Erratum>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Erratum {
    /// Short stable name, printed by the generator and the contract test.
    pub id: String,
    /// Spec files it corrects, relative to the specs' root (`apps/x.json`).
    pub files: Vec<String>,
    /// Why: the spec contradicting itself, or what live integrations send.
    pub evidence: String,
    #[serde(rename = "change")]
    pub changes: Vec<Change>,
}

/// One edit of one member of an object. With `drop`, the member is an array
/// from which those items are removed (each must be there); otherwise the
/// member must equal `was` (absent when `was` is) and becomes `now` (removed
/// when `now` is absent).
#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    /// JSON pointer to the object holding the member.
    pub at: String,
    pub key: String,
    #[serde(default)]
    pub was: Option<Value>,
    #[serde(default)]
    pub now: Option<Value>,
    #[serde(default)]
    pub drop: Vec<Value>,
}

impl Errata {
    /// The entries that correct `file` (a path relative to the specs' root).
    pub fn for_file<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a Erratum> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.files.iter().any(|f| f == file))
    }

    /// Apply every entry for `file` to `doc`; returns the ids applied.
    pub fn apply(&self, file: &str, doc: &mut Value) -> Result<Vec<String>, String> {
        let mut applied = Vec::new();
        for e in self.for_file(file) {
            for c in &e.changes {
                c.apply(doc)
                    .map_err(|why| format!("erratum {} no longer applies to {file}: {why}; the spec changed, so review the entry in errata.toml", e.id))?;
            }
            applied.push(e.id.clone());
        }
        Ok(applied)
    }

    /// Entries naming a file that `seen` (the files corrected) lacks: a
    /// renamed or removed spec file must not make an erratum vanish quietly.
    pub fn missing_files(&self, seen: &[String]) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|e| e.files.iter().map(move |f| (e, f)))
            .filter(|(_, f)| !seen.contains(f))
            .map(|(e, f)| format!("erratum {} names {f}, which was not read", e.id))
            .collect()
    }
}

impl Change {
    fn apply(&self, doc: &mut Value) -> Result<(), String> {
        let obj = doc
            .pointer_mut(&self.at)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("no object at {}", self.at))?;
        if !self.drop.is_empty() {
            let list = obj
                .get_mut(&self.key)
                .and_then(Value::as_array_mut)
                .ok_or_else(|| format!("no array {}/{}", self.at, self.key))?;
            for d in &self.drop {
                let i = list
                    .iter()
                    .position(|x| x == d)
                    .ok_or_else(|| format!("{}/{} does not contain {d}", self.at, self.key))?;
                list.remove(i);
            }
            if list.is_empty() {
                obj.remove(&self.key);
            }
            return Ok(());
        }
        let current = obj.get(&self.key);
        if current != self.was.as_ref() {
            return Err(format!(
                "{}/{} is {}, the erratum expects {}",
                self.at,
                self.key,
                current.map_or("absent".into(), Value::to_string),
                self.was.as_ref().map_or("absent".into(), Value::to_string)
            ));
        }
        match &self.now {
            Some(v) => {
                obj.insert(self.key.clone(), v.clone());
            }
            None => {
                obj.remove(&self.key);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errata(changes: Vec<Change>) -> Errata {
        Errata {
            entries: vec![Erratum {
                id: "t".into(),
                files: vec!["apps/a.json".into()],
                evidence: "test".into(),
                changes,
            }],
        }
    }

    #[test]
    fn applies_and_refuses_a_spec_that_moved() {
        let e = errata(vec![
            Change {
                at: "/s/properties/subType".into(),
                key: "type".into(),
                was: Some(json!("object")),
                now: Some(json!("string")),
                drop: vec![],
            },
            Change {
                at: "/s".into(),
                key: "required".into(),
                was: None,
                now: None,
                drop: vec![json!("subType")],
            },
        ]);
        let mut doc =
            json!({"s": {"required": ["subType"], "properties": {"subType": {"type": "object"}}}});
        assert_eq!(e.apply("apps/a.json", &mut doc).unwrap(), vec!["t"]);
        assert_eq!(
            doc,
            json!({"s": {"properties": {"subType": {"type": "string"}}}})
        );
        // Applied twice: the spec no longer says what the erratum corrects.
        let err = e.apply("apps/a.json", &mut doc).unwrap_err();
        assert!(err.contains("erratum t no longer applies"), "{err}");
        assert!(e.apply("apps/b.json", &mut doc).unwrap().is_empty());
        assert_eq!(e.missing_files(&[]).len(), 1);
        assert!(e.missing_files(&["apps/a.json".into()]).is_empty());
    }
}
