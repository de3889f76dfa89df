//! A session's live-help status, set by the host application (SPEC §4).

use serde::{Deserialize, Serialize};

use crate::{PartnerRole, SessionId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    Available,
    #[default]
    Unavailable,
    ObserveOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Help,
    Peer,
    PeerHelp,
}

/// The whole status of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveHelpStatus {
    pub session: SessionId,
    pub availability: Availability,
    pub mode: Mode,
    pub partner_roles: Vec<PartnerRole>,
    pub title: Option<String>,
    /// The user must agree before an operator observes the screen.
    #[serde(default)]
    pub observe_consent: bool,
    /// The user must agree before an operator takes control.
    #[serde(default)]
    pub control_consent: bool,
}

impl LiveHelpStatus {
    /// A session the host has not configured: invisible, no chat.
    pub fn new(session: SessionId) -> Self {
        Self {
            session,
            availability: Availability::default(),
            mode: Mode::default(),
            partner_roles: Vec::new(),
            title: None,
            observe_consent: false,
            control_consent: false,
        }
    }

    /// Applies a patch: omitted fields keep their value.
    pub fn apply(&mut self, patch: StatusPatch) {
        if let Some(a) = patch.availability {
            self.availability = a;
        }
        if let Some(m) = patch.mode {
            self.mode = m;
        }
        if let Some(roles) = patch.partner_roles {
            self.partner_roles = roles.into_vec();
        }
        if let Some(t) = patch.title {
            self.title = Some(t);
        }
        if let Some(c) = patch.observe_consent {
            self.observe_consent = c;
        }
        if let Some(c) = patch.control_consent {
            self.control_consent = c;
        }
    }
}

/// The host's request to change a status. Unknown fields are refused so that a misspelt
/// field is an error instead of a silent no-op.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPatch {
    pub availability: Option<Availability>,
    pub mode: Option<Mode>,
    pub partner_roles: Option<Roles>,
    #[serde(default, deserialize_with = "title")]
    pub title: Option<String>,
    pub observe_consent: Option<bool>,
    pub control_consent: Option<bool>,
}

/// Longest accepted interview title, in characters.
pub const MAX_TITLE_LEN: usize = 200;

fn title<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let t = String::deserialize(d)?;
    if t.chars().count() > MAX_TITLE_LEN {
        return Err(serde::de::Error::custom(format!(
            "longer than {MAX_TITLE_LEN} characters"
        )));
    }
    if t.chars().any(char::is_control) {
        return Err(serde::de::Error::custom("holds control characters"));
    }
    Ok(Some(t))
}

/// One role or a list of roles, de-duplicated in first-seen order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles(Vec<PartnerRole>);

/// The most roles a session may request.
pub const MAX_ROLES: usize = 32;

impl Roles {
    pub fn into_vec(self) -> Vec<PartnerRole> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(PartnerRole),
            Many(Vec<PartnerRole>),
        }
        let list = match OneOrMany::deserialize(d)? {
            OneOrMany::One(r) => vec![r],
            OneOrMany::Many(v) => v,
        };
        if list.len() > MAX_ROLES {
            return Err(serde::de::Error::custom(format!(
                "at most {MAX_ROLES} roles"
            )));
        }
        let mut unique: Vec<PartnerRole> = Vec::with_capacity(list.len());
        for r in list {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        Ok(Self(unique))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_keeps_omitted_fields() {
        let sid = SessionId::parse("s").expect("valid");
        let mut status = LiveHelpStatus::new(sid);
        status.apply(
            serde_json::from_str(r#"{"availability":"available","partner_roles":["a","B","a"]}"#)
                .expect("valid patch"),
        );
        status.apply(serde_json::from_str(r#"{"mode":"peer"}"#).expect("valid patch"));
        assert_eq!(status.availability, Availability::Available);
        assert_eq!(status.mode, Mode::Peer);
        let roles: Vec<&str> = status.partner_roles.iter().map(|r| r.as_str()).collect();
        assert_eq!(roles, ["a", "B"]);
    }

    #[test]
    fn a_single_role_is_a_list_of_one() {
        let p: StatusPatch = serde_json::from_str(r#"{"partner_roles":"advocate"}"#).expect("ok");
        assert_eq!(p.partner_roles.expect("roles").into_vec().len(), 1);
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            r#"{"availability":"maybe"}"#,
            r#"{"mode":"HELP"}"#,
            r#"{"colour":"red"}"#,
            r#"{"partner_roles":[""]}"#,
        ] {
            assert!(serde_json::from_str::<StatusPatch>(bad).is_err(), "{bad}");
        }
    }
}
