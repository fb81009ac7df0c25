//! The mutant suite: every single bug planted in a reference variant is caught by its named
//! invariant within its stated seed budget, and the references themselves still hold.
//! Each mutant stops at its first catching seed, so the suite costs little.

use faultline_seeds::mutants::{self, Entry};

/// Runs `work` over `items` on every core, keeping the order of `items`.
fn on_all_cores<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(jobs).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect()
    })
}

#[test]
fn every_mutant_is_caught_by_its_invariant_within_budget() {
    let all = mutants::catalogue();
    let found = on_all_cores(&all, |e: &Entry| mutants::first_catch(e, e.budget));
    let mut escaped = Vec::new();
    for (e, f) in all.iter().zip(found) {
        match f.expect("the mutant runs") {
            Some(seed) => println!(
                "{} {}: caught by {} on seed {seed}",
                e.scenario, e.name, e.caught_by
            ),
            None => escaped.push(format!(
                "{} {} escaped {} for {} seeds: {}",
                e.scenario, e.name, e.caught_by, e.budget, e.bug
            )),
        }
    }
    assert!(escaped.is_empty(), "escaped:\n{}", escaped.join("\n"));
}

#[test]
fn each_system_has_five_mutants_with_distinct_names() {
    let all = mutants::catalogue();
    for scenario in [
        "business_cards",
        "chat_persistence",
        "loop_export",
        "offline_sync",
        "story_progress",
    ] {
        let names = mutants::names_of(scenario);
        assert!(names.len() >= 5, "{scenario} has {} mutants", names.len());
        assert!(names.iter().all(|n| n.starts_with("mut_")));
    }
    let mut names: Vec<(&str, &str)> = all.iter().map(|e| (e.scenario, e.name)).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        all.len(),
        "a mutant name repeats within a system"
    );
}

#[test]
fn mutants_are_not_in_the_default_variant_lists() {
    let registry = faultline_seeds::registry();
    for e in mutants::catalogue() {
        let scenario = registry
            .load_scenario(e.scenario)
            .expect("the scenario loads");
        let loaded = faultline::runner::Loaded::new(scenario, &registry).expect("it builds");
        assert!(
            !loaded.variants().iter().any(|v| v == e.name),
            "{} runs by default",
            e.name
        );
        loaded
            .check_variant(e.name)
            .expect("the mutant is registered with its system");
        assert!(
            loaded.invariants().iter().any(|i| i == e.caught_by),
            "{} is to be caught by {}, which {} does not check",
            e.name,
            e.caught_by,
            e.scenario
        );
    }
}
