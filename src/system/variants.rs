//! Named variants: client code a user adds to any system under a name of their choosing.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use super::{AnyCtx, ClientFuture, SqlFile, System};
use crate::check::{FinalState, Verdict};
use crate::history::History;
use crate::plan::{ClientScript, Workload};
use crate::rng::SimRng;
use crate::scenario::Scenario;
use crate::store::Store;

/// The software of one client host, as the engine starts it: given the client's context
/// and its script, a future that runs the script.
pub type ClientFn = Arc<dyn Fn(AnyCtx, ClientScript) -> ClientFuture + Send + Sync>;

/// Wraps an async closure over a client's context and script as a [`ClientFn`]; an `Err`
/// it returns is a harness failure (a bug in the client code, not a verdict).
///
/// ```
/// use faultline::system::client_fn;
/// let idle = client_fn(|ctx, script| async move {
///     for op in script.ops {
///         ctx.wait_until(op.at_ms).await;
///     }
///     Ok(())
/// });
/// # let _ = idle;
/// ```
pub fn client_fn<F, Fut>(f: F) -> ClientFn
where
    F: Fn(AnyCtx, ClientScript) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + 'static,
{
    Arc::new(move |ctx, script| {
        let fut = f(ctx, script);
        Box::pin(async move { fut.await.map_err(Into::into) })
    })
}

/// Makes a variant's client software from the scenario it runs in (for client code whose
/// timing or sizes come from the scenario's `[workload]`).
pub type ClientFactory = Arc<dyn Fn(&Scenario) -> crate::Result<ClientFn> + Send + Sync>;

/// One named implementation of a system's client logic.
#[derive(Clone)]
pub struct Variant {
    /// The name runs, reports and replay lines use.
    pub name: String,
    /// The schema it runs against (the system's default when `None`).
    pub schema: Option<String>,
    /// The system it is written for, when it is written for one (its actions and
    /// tables); adding it to another system's run is refused.
    pub logic: Option<String>,
    fixed: Option<ClientFn>,
    make: ClientFactory,
}

impl std::fmt::Debug for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variant")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .finish()
    }
}

impl Variant {
    /// A variant called `name` running `client`.
    pub fn new(name: &str, client: ClientFn) -> Self {
        Self {
            name: name.to_string(),
            schema: None,
            logic: None,
            fixed: Some(client.clone()),
            make: Arc::new(move |_| Ok(client.clone())),
        }
    }

    /// A variant called `name` whose client software is made from the scenario it runs
    /// in (once per scenario and fault profile).
    pub fn per_scenario<F>(name: &str, make: F) -> Self
    where
        F: Fn(&Scenario) -> crate::Result<ClientFn> + Send + Sync + 'static,
    {
        Self {
            name: name.to_string(),
            schema: None,
            logic: None,
            fixed: None,
            make: Arc::new(make),
        }
    }

    /// Marks the variant as written for the system `logic`.
    pub fn for_logic(mut self, logic: &str) -> Self {
        self.logic = Some(logic.to_string());
        self
    }

    /// The client software, when it does not depend on the scenario.
    pub fn fixed_client(&self) -> Option<&ClientFn> {
        self.fixed.as_ref()
    }

    /// The client software for `scenario`.
    pub fn client_for(&self, scenario: &Scenario) -> crate::Result<ClientFn> {
        (self.make)(scenario)
    }

    /// Runs against the system's schema `schema` (which constraints and server functions
    /// exist) instead of its default.
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_string());
        self
    }
}

/// A system with extra named variants; with `only_extra`, the system's own variants are
/// hidden, so a run compares just the user's implementations.
pub struct Extended {
    inner: Box<dyn System>,
    extra: BTreeMap<String, (Variant, ClientFn)>,
    order: Vec<String>,
    only_extra: bool,
    default_schema: String,
}

impl Extended {
    /// Adds `extra`, made for `scenario`, to `inner`; each extra variant without a schema
    /// runs against the schema of `inner`'s last variant (by convention the correct one,
    /// `reference`).
    pub fn new(
        inner: Box<dyn System>,
        extra: Vec<Variant>,
        only_extra: bool,
        scenario: &Scenario,
    ) -> crate::Result<Self> {
        let default_schema = inner
            .variants()
            .last()
            .map(|v| inner.schema_of(v))
            .unwrap_or_default();
        let order = extra.iter().map(|v| v.name.clone()).collect();
        let mut made = BTreeMap::new();
        for v in extra {
            if let Some(logic) = v.logic.as_deref().filter(|l| *l != inner.name()) {
                return Err(crate::Error::Usage(format!(
                    "variant `{}` implements `{logic}`, but the scenario runs `{}`",
                    v.name,
                    inner.name()
                )));
            }
            let client = v.client_for(scenario)?;
            made.insert(v.name.clone(), (v, client));
        }
        Ok(Self {
            inner,
            extra: made,
            order,
            only_extra,
            default_schema,
        })
    }
}

impl System for Extended {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn variants(&self) -> Vec<String> {
        let own = if self.only_extra {
            Vec::new()
        } else {
            self.inner
                .variants()
                .into_iter()
                .filter(|v| !self.extra.contains_key(v))
                .collect()
        };
        own.into_iter().chain(self.order.iter().cloned()).collect()
    }

    fn invariants(&self) -> Vec<String> {
        self.inner.invariants()
    }

    fn workload(
        &self,
        rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> crate::Result<Workload> {
        self.inner.workload(rng, safety_ms, knobs)
    }

    fn install(&self, variant: &str, store: &mut Store, setup: &Value) -> crate::Result<()> {
        // The inner system installs by schema name: hand it a variant of its own that
        // runs against the schema the extra variant asked for.
        let schema = self.schema_of(variant);
        let stand_in = self
            .inner
            .variants()
            .into_iter()
            .find(|v| self.inner.schema_of(v) == schema)
            .unwrap_or_else(|| schema.clone());
        self.inner.install(&stand_in, store, setup)
    }

    fn schema_of(&self, variant: &str) -> String {
        match self.extra.get(variant) {
            Some((v, _)) => v
                .schema
                .clone()
                .unwrap_or_else(|| self.default_schema.clone()),
            None => self.inner.schema_of(variant),
        }
    }

    fn audited_tables(&self) -> Vec<String> {
        self.inner.audited_tables()
    }

    fn setup_table(&self) -> Option<String> {
        self.inner.setup_table()
    }

    fn sql_files(&self, schema: &str) -> Option<Vec<SqlFile>> {
        self.inner.sql_files(schema)
    }

    fn client(&self, variant: &str, ctx: AnyCtx, script: ClientScript) -> ClientFuture {
        match self.extra.get(variant) {
            Some((_, client)) => client(ctx, script),
            None => self.inner.client(variant, ctx, script),
        }
    }

    fn check(&self, invariant: &str, history: &History, state: &FinalState) -> Verdict {
        self.inner.check(invariant, history, state)
    }

    fn situations(&self) -> Vec<super::Situation> {
        // An added variant must exercise what the system's own must, unless a situation
        // names the variants it applies to.
        self.inner.situations()
    }

    fn self_check(&self) -> crate::Result<()> {
        // The inner system may have no variants of its own when only added ones run; every
        // other fault of its description still counts.
        if !self.extra.is_empty() && self.inner.variants().is_empty() {
            self.inner.definition_check()
        } else {
            self.inner.self_check()
        }
    }

    fn definition_check(&self) -> crate::Result<()> {
        self.inner.definition_check()
    }
}
