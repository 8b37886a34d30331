//! Tokens are wrapped so they cannot reach output, logs or errors by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().trim().to_string())
    }

    /// The raw value, for the Authorization header and the keyring only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A hint that tells tokens apart without revealing them: `pit-…a1b2`.
    pub fn redacted(&self) -> String {
        let prefix: String = self
            .0
            .split('-')
            .next()
            .unwrap_or("")
            .chars()
            .take(4)
            .collect();
        let tail: String = {
            let chars: Vec<char> = self.0.chars().collect();
            if chars.len() >= 16 {
                chars[chars.len() - 4..].iter().collect()
            } else {
                String::new()
            }
        };
        match (
            prefix.is_empty() || prefix.len() == self.0.len(),
            tail.is_empty(),
        ) {
            (false, false) => format!("{prefix}-…{tail}"),
            (_, false) => format!("…{tail}"),
            _ => "…".to_string(),
        }
    }

    /// Replace every occurrence of the token in `text`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "[REDACTED]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn never_prints_the_token() {
        let s = Secret::new("pit-1234567890abcdef-SECRETTAIL");
        assert!(!format!("{s:?} {s}").contains("1234567890abcdef"));
        assert_eq!(
            s.scrub("Bearer pit-1234567890abcdef-SECRETTAIL"),
            "Bearer [REDACTED]"
        );
    }
}
