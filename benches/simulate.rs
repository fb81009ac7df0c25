//! Simulator throughput: one iteration runs seeds 1..=8 of a scenario variant, and the
//! throughput is reported in simulated milliseconds per wall second, so "1.0 Melem/s"
//! reads as 1000x real time on one core. Every scenario in `scenarios/` is measured.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faultline::runner::Loaded;

const SEEDS: std::ops::RangeInclusive<u64> = 1..=8;

fn scenario_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir("scenarios")
        .expect("scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

fn simulate(c: &mut Criterion) {
    for path in scenario_files() {
        let loaded = Loaded::load(&path, &faultline_seeds::registry()).expect("scenario loads");
        let mut group = c.benchmark_group(loaded.scenario.file.name.clone());
        group.sample_size(10);
        for variant in loaded.variants() {
            let sim_ms: u64 = SEEDS
                .map(|s| loaded.run_seed(&variant, s).expect("runs").stats.sim_ms)
                .sum();
            group.throughput(Throughput::Elements(sim_ms));
            group.bench_function(format!("{variant}/8 seeds"), |b| {
                b.iter(|| {
                    for s in SEEDS {
                        criterion::black_box(loaded.run_seed(&variant, s).expect("runs"));
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, simulate);
criterion_main!(benches);
