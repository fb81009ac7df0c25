//! Named fault profiles: `[profiles.NAME]` tables that override a scenario's `[faults]`,
//! `[workload]` and `[auth]` knobs, so one scenario file can stage each test case of its
//! seed document (a disconnected browser, an expired session, ...) on its own.
//!
//! A run either names one profile or lets each seed draw one from the seed itself; the
//! draw uses its own fork of the root RNG, so it never shifts any other draw, and the
//! chosen name is recorded in the plan's knobs as `profile`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Expectation, Scenario};
use crate::error::Result;
use crate::rng::SimRng;

/// The profile name that means "the scenario's own knobs, no override".
pub const BASE: &str = "base";
/// The profile name that means "draw one profile per seed" (the default).
pub const ALL: &str = "all";
/// The knob that records which profile a plan was drawn under.
pub const KNOB: &str = "profile";

/// One `[profiles.NAME]` table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// What the profile stages, for `faultline list`.
    #[serde(default)]
    pub description: String,
    /// Keys replacing those of the scenario's `[faults]`.
    #[serde(default)]
    pub faults: toml::Table,
    /// Keys replacing those of the scenario's `[workload]`.
    #[serde(default)]
    pub workload: toml::Table,
    /// Keys replacing those of the scenario's `[auth]`.
    #[serde(default)]
    pub auth: toml::Table,
    /// Expectations that replace the scenario's for seeds run under this profile.
    #[serde(default)]
    pub expect: BTreeMap<String, Expectation>,
    /// The situations a run of this profile alone must reach, replacing the scenario's
    /// list (a profile with no faults cannot reach a fault's situation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situations: Option<Vec<String>>,
}

/// Which profile each seed of a run uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProfileChoice {
    /// Each seed draws one of the scenario's profiles (none if it declares none).
    #[default]
    Drawn,
    /// Every seed uses this profile (`base`: the scenario's own knobs).
    Named(String),
}

impl ProfileChoice {
    /// Reads a `--profile` argument; absent or `all` means drawn per seed.
    pub fn from_arg(arg: Option<&str>) -> Self {
        match arg {
            None | Some(ALL) => ProfileChoice::Drawn,
            Some(name) => ProfileChoice::Named(name.to_string()),
        }
    }

    /// The profile a seed runs under, or `None` for a scenario without profiles.
    pub fn for_seed(&self, scenario: &Scenario, seed: u64) -> Option<String> {
        let names: Vec<&String> = scenario.file.profiles.keys().collect();
        if names.is_empty() {
            return None;
        }
        match self {
            ProfileChoice::Named(name) => Some(name.clone()),
            ProfileChoice::Drawn => {
                let i = SimRng::root(seed).fork(KNOB).index(names.len());
                Some(names[i].clone())
            }
        }
    }
}

impl Scenario {
    /// The profile names a run may pick: the declared ones, plus `base` and `all`.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.file.profiles.keys().cloned().collect();
        names.push(BASE.into());
        names.push(ALL.into());
        names
    }

    /// Refuses a profile the scenario does not declare, naming the file and the choices.
    pub fn check_profile(&self, choice: &ProfileChoice) -> Result<()> {
        let ProfileChoice::Named(name) = choice else {
            return Ok(());
        };
        if name == BASE || self.file.profiles.contains_key(name) {
            return Ok(());
        }
        let expected = if self.file.profiles.is_empty() {
            "`base` or `all`, as this scenario declares no `[profiles.*]`".to_string()
        } else {
            format!("one of: {}", self.profile_names().join(", "))
        };
        // Point at the first profile the file declares (its top when it declares none).
        Err(self.error_at(
            &["profiles"],
            format!("unknown profile `{name}`; expected {expected}"),
        ))
    }

    /// This scenario with profile `name`'s overrides applied (itself for `base`).
    pub fn with_profile(&self, name: &str) -> Result<Scenario> {
        if name == BASE {
            return Ok(self.clone());
        }
        let Some(spec) = self.file.profiles.get(name) else {
            return Err(self.error_at(&["profiles"], format!("no profile `{name}`")));
        };
        // The merged table has no text to point into, so the key at fault is found by
        // merging the profile's keys one at a time.
        let bad = |part: &str,
                   over: &toml::Table,
                   e: toml::de::Error,
                   alone: &dyn Fn(&toml::Table) -> bool| {
            let culprit = over.iter().find(|(k, v)| {
                let mut one = toml::Table::new();
                one.insert(k.to_string(), (*v).clone());
                !alone(&one)
            });
            let mut path = vec!["profiles", name, part];
            if let Some((k, _)) = culprit {
                path.push(k.as_str());
            }
            self.error_at(
                &path,
                format!("profile `{name}` {part}: {}", e.message().trim()),
            )
        };
        let faults_ok = |t: &toml::Table| merged(&self.file.faults, t).is_ok();
        let auth_ok = |t: &toml::Table| merged(&self.file.auth, t).is_ok();
        let mut s = self.clone();
        s.file.faults = merged(&self.file.faults, &spec.faults)
            .map_err(|e| bad("faults", &spec.faults, e, &faults_ok))?;
        s.file.auth = merged(&self.file.auth, &spec.auth)
            .map_err(|e| bad("auth", &spec.auth, e, &auth_ok))?;
        s.file.workload.extend(spec.workload.clone());
        if spec.situations.is_some() {
            s.file.situations = spec.situations.clone();
        }
        s.profile = Some(name.to_string());
        s.check_spans()?;
        Ok(s)
    }

    /// What `variant` is expected to do on a seed run under `profile`: the profile's own
    /// expectation if it states one, else the scenario's.
    pub fn expectation(&self, variant: &str, profile: Option<&str>) -> Expectation {
        profile
            .and_then(|p| self.file.profiles.get(p))
            .and_then(|p| p.expect.get(variant))
            .or_else(|| self.file.expect.get(variant))
            .cloned()
            .unwrap_or_default()
    }
}

/// `base` with `over`'s keys replacing its own, checked as strictly as the base was.
fn merged<T>(base: &T, over: &toml::Table) -> std::result::Result<T, toml::de::Error>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    let mut table = toml::Table::try_from(base).expect("scenario sections serialise");
    table.extend(over.clone());
    toml::Value::Table(table).try_into()
}
