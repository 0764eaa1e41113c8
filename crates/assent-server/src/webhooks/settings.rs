//! `[[webhook]]` tables as written in `assent.toml`, and their validation
//! into [`Webhook`]s the workers can use.

use std::collections::HashSet;
use std::fmt;

use assent_domain::EventType;
use assent_store::webhooks::WebhookTarget;
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::sign::SigningKey;

/// One `[[webhook]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where events are POSTed (`http` or `https`).
    pub url: String,
    /// `whsec_<base64 key>`, as the Standard Webhooks spec defines it.
    pub secret: WebhookSecret,
    /// Event types to deliver; every type when absent.
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// A webhook secret as configured. Its `Debug` never shows it, so neither
/// a logged config nor an error message can leak it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn new(secret: impl Into<String>) -> WebhookSecret {
        WebhookSecret(secret.into())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A validated webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Derived from the URL, so it is the same after a restart and pending
    /// deliveries find their webhook again (a rotated secret keeps it).
    pub id: String,
    pub url: Url,
    pub key: SigningKey,
    /// `None`: every event type.
    pub events: Option<Vec<EventType>>,
}

impl Webhook {
    /// What the store needs to fan events out to this webhook.
    pub fn target(&self) -> WebhookTarget {
        WebhookTarget {
            id: self.id.clone(),
            events: self.events.clone(),
        }
    }
}

impl WebhookConfig {
    /// Validates the table at `index` (0-based) of the config file.
    fn resolve(&self, index: usize) -> Result<Webhook, String> {
        let name = format!("webhook[{index}]");
        let url = Url::parse(&self.url).map_err(|e| format!("{name} url {:?}: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!(
                "{name} url {:?}: must be an http or https URL with a host",
                self.url
            ));
        }
        let name = format!("{name} ({})", url.as_str());
        let key = SigningKey::from_secret(&self.secret.0)
            .map_err(|why| format!("{name} secret: {why}"))?;
        let events = match &self.events {
            None => None,
            Some(names) if names.is_empty() => {
                return Err(format!(
                    "{name} events: the list is empty (leave it out to deliver every event)"
                ));
            }
            Some(names) => Some(
                names
                    .iter()
                    .map(|kind| {
                        EventType::parse(kind).ok_or_else(|| {
                            format!(
                                "{name} events: unknown event type {kind:?} (known: {})",
                                known_types()
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(Webhook {
            id: webhook_id(&url),
            url,
            key,
            events,
        })
    }
}

/// Validates every `[[webhook]]` table; a URL may appear only once, since
/// it names the webhook's deliveries.
pub fn resolve_all(configs: &[WebhookConfig]) -> Result<Vec<Webhook>, String> {
    let mut seen = HashSet::new();
    configs
        .iter()
        .enumerate()
        .map(|(index, config)| {
            let hook = config.resolve(index)?;
            if !seen.insert(hook.id.clone()) {
                return Err(format!(
                    "webhook[{index}] url {:?}: configured twice",
                    hook.url.as_str()
                ));
            }
            Ok(hook)
        })
        .collect()
}

fn webhook_id(url: &Url) -> String {
    let digest = hex::encode(Sha256::digest(url.as_str().as_bytes()));
    format!("wh_{}", &digest[..16])
}

fn known_types() -> String {
    EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn hook(url: &str, secret: &str, events: Option<&[&str]>) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            secret: WebhookSecret::new(secret),
            events: events.map(|e| e.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn a_good_webhook_resolves_with_a_stable_id() {
        let a = resolve_all(&[hook("https://example.com/hook", SECRET, None)]).unwrap();
        let b = resolve_all(&[hook(
            "https://example.com/hook",
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            Some(&["approval.approved"]),
        )])
        .unwrap();
        assert_eq!(a[0].id, b[0].id, "the id follows the URL, not the secret");
        assert_eq!(a[0].events, None);
        assert_eq!(b[0].events, Some(vec![EventType::ApprovalApproved]));
    }

    #[test]
    fn each_mistake_names_the_webhook_and_the_key() {
        let cases = [
            (hook("not a url", SECRET, None), "webhook[0] url"),
            (hook("ftp://example.com/", SECRET, None), "webhook[0] url"),
            (
                hook("https://example.com/", "MfKQ9r8GKYqrTwjU", None),
                "secret",
            ),
            (
                hook("https://example.com/", "whsec_not*base64", None),
                "secret",
            ),
            (hook("https://example.com/", "whsec_", None), "secret"),
            (
                hook("https://example.com/", SECRET, Some(&["approval.done"])),
                "events: unknown event type \"approval.done\"",
            ),
            (hook("https://example.com/", SECRET, Some(&[])), "events"),
        ];
        for (config, expected) in cases {
            let err = resolve_all(&[config]).unwrap_err();
            assert!(err.contains(expected), "{err:?} should name {expected:?}");
            assert!(err.contains("webhook[0]"), "{err}");
            assert!(
                !err.contains("MfKQ9r8GKYqrTwjU"),
                "the secret leaked: {err}"
            );
        }
        let twice = [
            hook("https://example.com/a", SECRET, None),
            hook("https://example.com/a", SECRET, None),
        ];
        assert!(resolve_all(&twice).unwrap_err().contains("webhook[1]"));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let config = hook("https://example.com/", SECRET, None);
        let resolved = resolve_all(std::slice::from_ref(&config)).unwrap();
        for shown in [format!("{config:?}"), format!("{resolved:?}")] {
            assert!(!shown.contains("MfKQ9r8GKYqrTwjU"), "{shown}");
        }
    }
}
