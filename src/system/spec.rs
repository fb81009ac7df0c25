//! [`SystemSpec`]: a system described with a builder instead of a trait implementation.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::{failing_client, AnyCtx, ClientFn, ClientFuture, Situation, SqlFile, System, Variant};
use crate::check::{FinalState, Verdict};
use crate::history::History;
use crate::plan::{ClientScript, Workload};
use crate::rng::SimRng;
use crate::store::{ServerFn, Store, TableDef};

type WorkloadFn =
    Arc<dyn Fn(SimRng, u64, &mut BTreeMap<String, Value>) -> crate::Result<Workload> + Send + Sync>;
type CheckFn = Arc<dyn Fn(&History, &FinalState) -> Verdict + Send + Sync>;
type InstallFn = Arc<dyn Fn(&str, &mut Store) -> crate::Result<()> + Send + Sync>;

/// One invariant: a name and a pure function from a run's history and final state to a
/// verdict. The generic checkers in [`crate::check`] are configured into one like this:
///
/// ```
/// use faultline::system::Invariant;
/// let unique = Invariant::new("one_booking_per_slot", |history, state| {
///     faultline::check::unique_slugs::check(history, state, "bookings", "slot")
/// });
/// # let _ = unique;
/// ```
#[derive(Clone)]
pub struct Invariant {
    /// The name scenario files, expectations and reports use.
    pub name: String,
    /// Tables it reads, checked against the system's own when it is built.
    pub tables: Vec<String>,
    check: CheckFn,
}

impl Invariant {
    /// An invariant called `name` checked by `check`. The verdict's own name is set to
    /// `name`, whatever the function put there.
    pub fn new<F>(name: &str, check: F) -> Self
    where
        F: Fn(&History, &FinalState) -> Verdict + Send + Sync + 'static,
    {
        Self {
            name: name.to_string(),
            tables: Vec::new(),
            check: Arc::new(check),
        }
    }

    /// Declares that the check reads `table`, so a misspelt or missing table is an error
    /// when the system is built, not an invariant that silently holds on no rows.
    pub fn reads(mut self, table: &str) -> Self {
        self.tables.push(table.to_string());
        self
    }

    /// Checks one run.
    pub fn check(&self, history: &History, state: &FinalState) -> Verdict {
        let mut v = (self.check)(history, state);
        v.invariant = self.name.clone();
        v
    }
}

impl std::fmt::Debug for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invariant")
            .field("name", &self.name)
            .finish()
    }
}

/// A system described piece by piece: tables, server functions, workload, variants and
/// invariants. It implements [`System`], so the engine runs it like any other.
///
/// ```
/// use faultline::plan::Workload;
/// use faultline::store::TableDef;
/// use faultline::system::{client_fn, Invariant, SystemSpec, Variant};
/// use faultline::check::Verdict;
///
/// let spec = SystemSpec::new("counter")
///     .table(TableDef::new("counters").versioned("version"))
///     .workload(|_rng, _safety_ms, _knobs| Ok(Workload { setup: serde_json::json!([]), clients: vec![] }))
///     .variant(Variant::new("idle", client_fn(|_ctx, _script| async { Ok(()) })))
///     .invariant(Invariant::new("always", |_h, _s| Verdict::holds("always")));
/// assert_eq!(faultline::system::System::variants(&spec), vec!["idle"]);
/// ```
#[derive(Clone)]
pub struct SystemSpec {
    name: String,
    tables: Vec<TableDef>,
    schema_tables: BTreeMap<String, Vec<TableDef>>,
    functions: Vec<(String, ServerFn)>,
    install: Option<InstallFn>,
    setup_table: Option<String>,
    audited: Vec<String>,
    workload: Option<WorkloadFn>,
    variants: Vec<(Variant, Option<ClientFn>)>,
    invariants: Vec<Invariant>,
    situations: Vec<Situation>,
    sql: BTreeMap<String, Vec<SqlFile>>,
    shared_sql: Vec<SqlFile>,
    functions_sql: Vec<SqlFile>,
}

impl std::fmt::Debug for SystemSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemSpec")
            .field("name", &self.name)
            .field("tables", &self.tables)
            .field(
                "variants",
                &self.variants.iter().map(|(v, _)| v).collect::<Vec<_>>(),
            )
            .field("invariants", &self.invariants)
            .finish()
    }
}

impl SystemSpec {
    /// An empty system called `name` (the `logic = "..."` of its scenario files).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            tables: Vec::new(),
            schema_tables: BTreeMap::new(),
            functions: Vec::new(),
            install: None,
            setup_table: None,
            audited: Vec::new(),
            workload: None,
            variants: Vec::new(),
            invariants: Vec::new(),
            situations: Vec::new(),
            sql: BTreeMap::new(),
            shared_sql: Vec::new(),
            functions_sql: Vec::new(),
        }
    }

    /// A table every variant's schema has: its primary key, unique constraints (SQLSTATE
    /// 23505 on a clash) and version column (bumped on every update).
    pub fn table(mut self, def: TableDef) -> Self {
        self.tables.push(def);
        self
    }

    /// The table `def.name` as schema `schema` defines it (the constraints its migration
    /// added, say), in place of the [`SystemSpec::table`] of that name. The shared
    /// definition must exist, so checkers can be checked against it.
    pub fn schema_table(mut self, schema: &str, def: TableDef) -> Self {
        self.schema_tables
            .entry(schema.to_string())
            .or_default()
            .push(def);
        self
    }

    /// A server function clients call with `Request::rpc(name, args)`: the simulated twin
    /// of a SQL function, run atomically (an error rolls back everything it wrote).
    pub fn function(mut self, name: &str, f: ServerFn) -> Self {
        self.functions.push((name.to_string(), f));
        self
    }

    /// Schema-dependent setup run after the tables and functions, given the variant's
    /// schema name: the place for constraints only some variants' migrations add.
    pub fn on_install<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, &mut Store) -> crate::Result<()> + Send + Sync + 'static,
    {
        self.install = Some(Arc::new(f));
        self
    }

    /// The table the workload's `setup` rows (a JSON array of rows) go into.
    pub fn setup_table(mut self, table: &str) -> Self {
        self.setup_table = Some(table.to_string());
        self
    }

    /// Keeps every committed row image of `table` in the final state's audit, for
    /// invariants about what ever reached the server (not only what is left at the end).
    pub fn audit(mut self, table: &str) -> Self {
        self.audited.push(table.to_string());
        self
    }

    /// How one seed's workload is drawn: from the seed's generator, the safety phase's
    /// length, recording every drawn knob (they are printed with each failure).
    pub fn workload<F>(mut self, f: F) -> Self
    where
        F: Fn(SimRng, u64, &mut BTreeMap<String, Value>) -> crate::Result<Workload>
            + Send
            + Sync
            + 'static,
    {
        self.workload = Some(Arc::new(f));
        self
    }

    /// Adds a named variant (its client code); variants run in the order added. A variant
    /// made with [`Variant::per_scenario`] needs the scenario: use
    /// [`SystemSpec::variant_for`] from inside the factory, which has it.
    pub fn variant(mut self, variant: Variant) -> Self {
        self.variants.retain(|(v, _)| v.name != variant.name);
        self.variants.push((variant, None));
        self
    }

    /// Adds a named variant whose client is made for `scenario` now.
    pub fn variant_for(
        mut self,
        variant: Variant,
        scenario: &crate::scenario::Scenario,
    ) -> crate::Result<Self> {
        let client = variant.client_for(scenario)?;
        self.variants.retain(|(v, _)| v.name != variant.name);
        self.variants.push((variant, Some(client)));
        Ok(self)
    }

    /// Adds an invariant every run is checked against.
    pub fn invariant(mut self, invariant: Invariant) -> Self {
        self.invariants.retain(|i| i.name != invariant.name);
        self.invariants.push(invariant);
        self
    }

    /// Declares a dangerous situation its scenarios must reach on some seeds; a run in
    /// which it never occurred (for a variant it applies to) fails.
    pub fn situation(mut self, situation: Situation) -> Self {
        self.situations.retain(|s| s.name != situation.name);
        self.situations.push(situation);
        self
    }

    /// SQL files every schema loads first on PostgreSQL (its tables), in order.
    pub fn sql(mut self, file: SqlFile) -> Self {
        self.shared_sql.push(file);
        self
    }

    /// A SQL file only schema `schema` loads, after the shared [`SystemSpec::sql`] files
    /// and before the [`SystemSpec::functions_sql`] ones (a migration adding a
    /// constraint, say). Once any schema has files of its own, a schema without any has
    /// no PostgreSQL mode: its variants are refused on PostgreSQL rather than run against
    /// tables that lack what its simulated twin installs. Give a schema that needs nothing
    /// extra an empty file.
    pub fn schema_sql(mut self, schema: &str, file: SqlFile) -> Self {
        self.sql.entry(schema.to_string()).or_default().push(file);
        self
    }

    /// SQL files every schema loads last (its server functions), in order, so a function
    /// body may name a constraint a schema's own file added.
    pub fn functions_sql(mut self, file: SqlFile) -> Self {
        self.functions_sql.push(file);
        self
    }

    /// Adds each of `variants`, as [`SystemSpec::variant`] does.
    pub fn variants_from(self, variants: impl IntoIterator<Item = Variant>) -> Self {
        variants.into_iter().fold(self, Self::variant)
    }

    /// Adds each of `invariants`, as [`SystemSpec::invariant`] does.
    pub fn invariants_from(self, invariants: impl IntoIterator<Item = Invariant>) -> Self {
        invariants.into_iter().fold(self, Self::invariant)
    }

    /// Declares each of `situations`, as [`SystemSpec::situation`] does.
    pub fn situations_from(self, situations: impl IntoIterator<Item = Situation>) -> Self {
        situations.into_iter().fold(self, Self::situation)
    }

    fn variant_named(&self, name: &str) -> Option<&(Variant, Option<ClientFn>)> {
        self.variants.iter().find(|(v, _)| v.name == name)
    }
}

impl System for SystemSpec {
    fn name(&self) -> &str {
        &self.name
    }

    fn variants(&self) -> Vec<String> {
        self.variants.iter().map(|(v, _)| v.name.clone()).collect()
    }

    fn invariants(&self) -> Vec<String> {
        self.invariants.iter().map(|i| i.name.clone()).collect()
    }

    fn workload(
        &self,
        rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> crate::Result<Workload> {
        match &self.workload {
            Some(f) => f(rng, safety_ms, knobs),
            None => Err(crate::Error::Usage(format!(
                "system `{}` has no workload: give its SystemSpec one with `.workload(...)`",
                self.name
            ))),
        }
    }

    fn install(&self, variant: &str, store: &mut Store, setup: &Value) -> crate::Result<()> {
        let schema = self.schema_of(variant);
        let own = self
            .schema_tables
            .get(&schema)
            .map_or(&[][..], Vec::as_slice);
        for t in &self.tables {
            let def = own.iter().find(|o| o.name == t.name).unwrap_or(t);
            store.create_table(def.clone());
        }
        for (name, f) in &self.functions {
            store.register(name, *f);
        }
        if let Some(hook) = &self.install {
            hook(&schema, store)?;
        }
        match &self.setup_table {
            Some(table) => store.insert_setup(table, setup),
            None => Ok(()),
        }
    }

    fn schema_of(&self, variant: &str) -> String {
        self.variant_named(variant)
            .and_then(|(v, _)| v.schema.clone())
            .unwrap_or_else(|| "default".to_string())
    }

    fn audited_tables(&self) -> Vec<String> {
        self.audited.clone()
    }

    fn setup_table(&self) -> Option<String> {
        self.setup_table.clone()
    }

    fn sql_files(&self, schema: &str) -> Option<Vec<SqlFile>> {
        let own = match self.sql.get(schema) {
            Some(files) => files.clone(),
            None if self.sql.is_empty() => Vec::new(),
            None => return None,
        };
        if self.shared_sql.is_empty() && own.is_empty() && self.functions_sql.is_empty() {
            return None;
        }
        let mut files = self.shared_sql.clone();
        files.extend(own);
        files.extend(self.functions_sql.iter().cloned());
        Some(files)
    }

    fn client(&self, variant: &str, ctx: AnyCtx, script: ClientScript) -> ClientFuture {
        match self.variant_named(variant) {
            Some((_, Some(client))) => client(ctx, script),
            Some((v, None)) => match v.fixed_client() {
                Some(client) => client(ctx, script),
                None => failing_client(format!(
                    "variant `{variant}` is made per scenario; add it with \
                     SystemSpec::variant_for"
                )),
            },
            None => failing_client(format!("{} has no variant `{variant}`", self.name)),
        }
    }

    fn situations(&self) -> Vec<Situation> {
        self.situations.clone()
    }

    fn self_check(&self) -> crate::Result<()> {
        self.definition_check()?;
        if self.variants.is_empty() {
            return Err(crate::Error::Usage(format!(
                "system `{}` has no variant: add its client code with `.variant(...)`",
                self.name
            )));
        }
        Ok(())
    }

    fn definition_check(&self) -> crate::Result<()> {
        let known: Vec<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
        let fail = |what: String| {
            Err(crate::Error::Usage(format!(
                "system `{}`: {what}; its tables are: {}",
                self.name,
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            )))
        };
        for i in &self.invariants {
            if let Some(t) = i.tables.iter().find(|t| !known.contains(&t.as_str())) {
                return fail(format!(
                    "invariant `{}` reads table `{t}`, which it does not define",
                    i.name
                ));
            }
        }
        for s in &self.situations {
            if let Some(t) = s.tables.iter().find(|t| !known.contains(&t.as_str())) {
                return fail(format!(
                    "situation `{}` reads table `{t}`, which it does not define",
                    s.name
                ));
            }
            if let Some(v) = s.variants.iter().find(|v| self.variant_named(v).is_none()) {
                return Err(crate::Error::Usage(format!(
                    "system `{}`: situation `{}` is required of variant `{v}`, which it does \
                     not have; its variants are: {}",
                    self.name,
                    s.name,
                    self.variants().join(", ")
                )));
            }
        }
        for (schema, defs) in &self.schema_tables {
            if let Some(t) = defs.iter().find(|d| !known.contains(&d.name.as_str())) {
                return fail(format!(
                    "schema `{schema}` redefines table `{}`, which it does not define",
                    t.name
                ));
            }
        }
        for t in self.audited.iter().chain(&self.setup_table) {
            if !known.contains(&t.as_str()) {
                return fail(format!("table `{t}` is audited or set up but not defined"));
            }
        }
        Ok(())
    }

    fn check(&self, invariant: &str, history: &History, state: &FinalState) -> Verdict {
        match self.invariants.iter().find(|i| i.name == invariant) {
            Some(i) => i.check(history, state),
            None => Verdict::violated(
                invariant,
                format!("{} cannot check `{invariant}`", self.name),
                vec![],
            ),
        }
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
