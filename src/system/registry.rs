//! Which systems a binary or a test knows, by the `logic = "..."` name scenario files use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Situation, System};
use crate::error::Result;
use crate::scenario::Scenario;

/// Builds a system from a validated scenario (its `[workload]` and phases).
pub type Factory = Arc<dyn Fn(&Scenario) -> Result<Box<dyn System>> + Send + Sync>;

/// Builds the backoff sweep's system for (contending clients, base delay ms, cap ms): one
/// variant per backoff policy name, every client saving the same row once with a version
/// check and retrying conflicts under that policy.
pub type SweepFactory = Arc<dyn Fn(u64, u64, u64) -> Box<dyn System> + Send + Sync>;

/// Systems by logic name, and scenario files shipped with them.
///
/// ```
/// use faultline::system::{Registry, SystemSpec};
/// let registry = Registry::new().system("noop", |_scenario| Ok(SystemSpec::new("noop")));
/// assert_eq!(registry.logics(), vec!["noop"]);
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    systems: BTreeMap<String, Factory>,
    scenarios: BTreeMap<String, (PathBuf, String)>,
    sweep: Option<SweepFactory>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("systems", &self.logics())
            .field("scenarios", &self.scenarios.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the system scenario files name as `logic = "LOGIC"`, made by `factory`
    /// from each scenario (and each of its fault profiles).
    pub fn system<S, F>(mut self, logic: &str, factory: F) -> Self
    where
        S: System + 'static,
        F: Fn(&Scenario) -> Result<S> + Send + Sync + 'static,
    {
        let make: Factory = Arc::new(move |s| Ok(Box::new(factory(s)?) as Box<dyn System>));
        self.systems.insert(logic.to_string(), make);
        self
    }

    /// Registers a factory that already returns a boxed system.
    pub fn factory(mut self, logic: &str, factory: Factory) -> Self {
        self.systems.insert(logic.to_string(), factory);
        self
    }

    /// Ships a scenario file under a short name, so `Harness::scenario(name)` and the CLI
    /// find it from any directory; `path` is what messages and replay lines show.
    pub fn scenario_text(mut self, name: &str, path: &str, text: &str) -> Self {
        self.scenarios
            .insert(name.to_string(), (PathBuf::from(path), text.to_string()));
        self
    }

    /// Marks the system `faultline report` runs its backoff sweep on: `factory(clients,
    /// base_ms, cap_ms)` builds a system in which every one of `clients` clients makes one
    /// optimistic-locking write to the same row and retries on a version conflict, with
    /// one variant per policy of [`crate::client::retry::Backoff::ALL`] (named by
    /// `Backoff::name`), each completion carrying `attempts` and `conflicts`
    /// (`docs/conventions.md`). Any system of that shape can be swept, a user's own too.
    pub fn sweep_system<S, F>(mut self, factory: F) -> Self
    where
        S: System + 'static,
        F: Fn(u64, u64, u64) -> S + Send + Sync + 'static,
    {
        self.sweep = Some(Arc::new(move |c, b, m| {
            Box::new(factory(c, b, m)) as Box<dyn System>
        }));
        self
    }

    /// The backoff sweep's system, if one is registered.
    pub fn sweep_system_factory(&self) -> Option<&SweepFactory> {
        self.sweep.as_ref()
    }

    /// Everything `other` registers, added to this registry (`other` wins on a clash).
    pub fn merge(mut self, other: Registry) -> Self {
        self.systems.extend(other.systems);
        self.scenarios.extend(other.scenarios);
        if other.sweep.is_some() {
            self.sweep = other.sweep;
        }
        self
    }

    /// Logic names, sorted.
    pub fn logics(&self) -> Vec<&str> {
        self.systems.keys().map(String::as_str).collect()
    }

    /// Short names of the scenarios shipped with [`Registry::scenario_text`], sorted.
    pub fn shipped_scenarios(&self) -> Vec<&str> {
        self.scenarios.keys().map(String::as_str).collect()
    }

    /// The factory of `logic`, if registered.
    pub fn factory_of(&self, logic: &str) -> Option<&Factory> {
        self.systems.get(logic)
    }

    /// A shipped scenario by short name, else the scenario file at `name_or_path`
    /// (`scenarios/NAME.toml` for a bare name that is not a file).
    pub fn load_scenario(&self, name_or_path: &str) -> Result<Scenario> {
        let path = resolve(name_or_path);
        if !path.exists() {
            if let Some((p, text)) = self.scenarios.get(name_or_path) {
                return Scenario::parse(p, text.clone());
            }
        }
        Scenario::load(&path)
    }

    /// Builds the system a scenario names and validates the scenario against it.
    pub fn build(&self, scenario: &Scenario) -> Result<Box<dyn System>> {
        let logic = &scenario.file.logic;
        let Some(factory) = self.systems.get(logic) else {
            return Err(scenario.error_at(
                &["logic"],
                format!(
                    "unknown logic `{logic}`; this binary knows: {}",
                    if self.systems.is_empty() {
                        "(none registered)".to_string()
                    } else {
                        self.logics().join(", ")
                    }
                ),
            ));
        };
        let system = factory(scenario)?;
        system.self_check()?;
        validate(scenario, system.as_ref())?;
        Ok(system)
    }
}

/// `scenarios/NAME.toml` for a bare name that is not a file, else the argument itself.
pub fn resolve(arg: &str) -> PathBuf {
    let p = PathBuf::from(arg);
    if p.exists() || arg.contains('/') || arg.ends_with(".toml") {
        p
    } else {
        Path::new("scenarios").join(format!("{arg}.toml"))
    }
}

/// Checks that every variant, invariant and expectation the scenario names exists.
pub fn validate(scenario: &Scenario, system: &dyn System) -> Result<()> {
    let f = &scenario.file;
    let variants = system.variants();
    let all_invariants = system.invariants();
    // Profiles' own expectations are checked like the scenario's.
    let expects = || {
        f.expect
            .iter()
            .chain(f.profiles.values().flat_map(|p| p.expect.iter()))
    };
    for v in f.variants.iter().chain(expects().map(|(v, _)| v)) {
        if !variants.contains(v) {
            return Err(scenario.error_at(
                &scenario.path_naming(v),
                format!(
                    "unknown variant `{v}`; expected one of: {}",
                    variants.join(", ")
                ),
            ));
        }
    }
    let invariants = selected_invariants(scenario, system);
    for i in f
        .invariants
        .iter()
        .chain(expects().flat_map(|(_, e)| e.violates.iter().chain(e.may_violate.iter())))
    {
        if !all_invariants.contains(i) {
            return Err(scenario.error_at(
                &scenario.path_naming(i),
                format!(
                    "unknown invariant `{i}`; expected one of: {}",
                    all_invariants.join(", ")
                ),
            ));
        }
        if !invariants.contains(i) {
            return Err(scenario.error_at(
                &scenario.path_naming(i),
                format!("invariant `{i}` is expected but not checked; add it to `invariants`"),
            ));
        }
    }
    let declared: Vec<String> = system.situations().into_iter().map(|s| s.name).collect();
    for s in f.situations.iter().flatten() {
        if !declared.contains(s) {
            return Err(scenario.error_at(
                &scenario.path_naming(s),
                format!(
                    "unknown situation `{s}`; expected one of: {}",
                    if declared.is_empty() {
                        "(the logic declares none)".to_string()
                    } else {
                        declared.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// The situations a scenario must reach: its list, or every one the system declares.
pub fn selected_situations(scenario: &Scenario, system: &dyn System) -> Vec<Situation> {
    let all = system.situations();
    match &scenario.file.situations {
        None => all,
        Some(list) => all.into_iter().filter(|s| list.contains(&s.name)).collect(),
    }
}

/// The variants a scenario runs: its list, or all of the system's.
pub fn selected_variants(scenario: &Scenario, system: &dyn System) -> Vec<String> {
    let all = system.variants();
    let listed: Vec<String> = scenario
        .file
        .variants
        .iter()
        .filter(|v| all.contains(v))
        .cloned()
        .collect();
    if listed.is_empty() {
        all
    } else {
        listed
    }
}

/// The invariants a scenario checks: its list, or all of the system's.
pub fn selected_invariants(scenario: &Scenario, system: &dyn System) -> Vec<String> {
    if scenario.file.invariants.is_empty() {
        system.invariants()
    } else {
        scenario.file.invariants.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::{client_fn, SystemSpec, Variant};

    fn registry() -> Registry {
        let idle = Variant::new("idle", client_fn(|_ctx, _script| async { Ok(()) }));
        Registry::new()
            .system("alpha", move |_| {
                Ok(SystemSpec::new("alpha").variant(idle.clone()))
            })
            .scenario_text(
                "alpha",
                "alpha.toml",
                "name = \"a\"\ndescription = \"d\"\nlogic = \"alpha\"\n",
            )
    }

    #[test]
    fn an_unknown_logic_names_the_line_and_what_is_registered() {
        let text = "name = \"x\"\ndescription = \"d\"\nlogic = \"beta\"\n";
        let scenario = Scenario::parse("x.toml".as_ref(), text.to_string()).unwrap();
        let err = registry()
            .build(&scenario)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.starts_with("x.toml:3:"), "{err}");
        assert!(err.contains("`beta`") && err.contains("alpha"), "{err}");
    }

    #[test]
    fn shipped_scenarios_load_by_name_and_unknown_variants_are_refused() {
        let r = registry();
        let s = r.load_scenario("alpha").unwrap();
        assert_eq!(s.file.logic, "alpha");
        let variants = r.build(&s).map(|b| b.variants()).map_err(|e| e.to_string());
        assert_eq!(variants, Ok(vec!["idle".to_string()]));
        let text = "name = \"x\"\ndescription = \"d\"\nlogic = \"alpha\"\nvariants = [\"busy\"]\n";
        let bad = Scenario::parse("x.toml".as_ref(), text.to_string()).unwrap();
        let err = r.build(&bad).err().expect("refused").to_string();
        assert!(
            err.contains("unknown variant `busy`") && err.contains("idle"),
            "{err}"
        );
        assert!(r.load_scenario("missing").is_err());
    }
}
