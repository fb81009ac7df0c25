//! The mutant suite: for each seed system, single realistic bugs in its reference variant,
//! each registered as a variant of its system (`mut_<name>`, selectable with `--variant`
//! but not in the scenario files' default lists) and expected to be caught by one named
//! invariant within a stated number of seeds. `tests/mutants.rs` asserts it; the example
//! `mutant_table` measures every mutant over 200 seeds for the README.

/// One mutant: where it lives, what it gets wrong, what must catch it and how soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The scenario (and system) whose reference it breaks.
    pub scenario: &'static str,
    /// Its variant name.
    pub name: &'static str,
    /// The bug, in plain words.
    pub bug: &'static str,
    /// The invariant that must catch it.
    pub caught_by: &'static str,
    /// Seeds `1..=budget` must include one that catches it.
    pub budget: u64,
}

/// The mutant of `table` called `name`: each system's `Mutant::named`.
pub fn named<M: Copy>(table: &[(M, Entry)], name: &str) -> Option<M> {
    table.iter().find(|(_, e)| e.name == name).map(|(m, _)| *m)
}

/// Every mutant of every seed system, in scenario order.
pub fn catalogue() -> Vec<Entry> {
    let mut all = Vec::new();
    all.extend(
        crate::business_cards::mutants::MUTANTS
            .iter()
            .map(|(_, e)| *e),
    );
    all.extend(crate::chat::mutants::MUTANTS.iter().map(|(_, e)| *e));
    all.extend(crate::loop_export::mutants::MUTANTS.iter().map(|(_, e)| *e));
    all.extend(
        crate::offline_sync::mutants::MUTANTS
            .iter()
            .map(|(_, e)| *e),
    );
    all.extend(
        crate::story_progress::mutants::MUTANTS
            .iter()
            .map(|(_, e)| *e),
    );
    all
}

/// Names of the mutants of `scenario`.
pub fn names_of(scenario: &str) -> Vec<&'static str> {
    catalogue()
        .into_iter()
        .filter(|e| e.scenario == scenario)
        .map(|e| e.name)
        .collect()
}

/// The first seed in `1..=budget` on which `entry.caught_by` is violated, running seeds in
/// order and stopping there (so a caught mutant costs only the seeds up to its catch).
pub fn first_catch(entry: &Entry, budget: u64) -> faultline::Result<Option<u64>> {
    let registry = crate::registry();
    let scenario = registry.load_scenario(entry.scenario)?;
    let loaded = faultline::runner::Loaded::new(scenario, &registry)?;
    for seed in 1..=budget {
        if caught(&loaded.run_seed(entry.name, seed)?, entry.caught_by) {
            return Ok(Some(seed));
        }
    }
    Ok(None)
}

/// True when `result` shows `invariant` violated.
pub fn caught(result: &faultline::runner::SeedResult, invariant: &str) -> bool {
    result.violations().any(|v| v.invariant == invariant)
}

/// One measured row of the README's mutant table.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The mutant.
    pub entry: Entry,
    /// Seeds (of those run) on which its invariant caught it.
    pub caught: usize,
    /// Seeds run.
    pub seeds: usize,
    /// Median seeds to the first failure (wrapping), `None` when never caught.
    pub median: Option<f64>,
}

/// Runs every mutant of `entries` on seeds `1..=seeds`, on `jobs` threads.
pub fn measure(entries: &[Entry], seeds: u64, jobs: usize) -> faultline::Result<Vec<Measured>> {
    let registry = crate::registry();
    let list: Vec<u64> = (1..=seeds).collect();
    let mut out = Vec::new();
    let mut scenarios: Vec<&str> = entries.iter().map(|e| e.scenario).collect();
    scenarios.dedup();
    for scenario in scenarios {
        let of: Vec<&Entry> = entries.iter().filter(|e| e.scenario == scenario).collect();
        let names: Vec<String> = of.iter().map(|e| e.name.to_string()).collect();
        let loaded = registry.load_scenario(scenario)?;
        let (results, _) =
            faultline::runner::run_many(&loaded, &registry, &names, &list, jobs, &|_, _| {})?;
        for e in of {
            let hits: Vec<bool> = list
                .iter()
                .map(|s| {
                    results
                        .iter()
                        .any(|r| r.variant == e.name && r.seed == *s && caught(r, e.caught_by))
                })
                .collect();
            out.push(Measured {
                entry: *e,
                caught: hits.iter().filter(|h| **h).count(),
                seeds: hits.len(),
                median: faultline::report::catch_table::median_to_first(&hits),
            });
        }
    }
    Ok(out)
}

/// The README's Markdown table of `rows`.
pub fn render(rows: &[Measured]) -> String {
    let mut s = String::from(
        "| scenario | mutant | the bug | caught by | budget | share of seeds | median seeds to first failure |\n|---|---|---|---|---|---|---|\n",
    );
    for m in rows {
        let share = 100.0 * m.caught as f64 / m.seeds.max(1) as f64;
        let median = m
            .median
            .map_or("never caught".to_string(), |x| format!("{x}"));
        s.push_str(&format!(
            "| `{}` | `{}` | {} | `{}` | {} | {}/{} ({share:.1}%) | {median} |\n",
            m.entry.scenario,
            m.entry.name,
            m.entry.bug,
            m.entry.caught_by,
            m.entry.budget,
            m.caught,
            m.seeds
        ));
    }
    s
}
