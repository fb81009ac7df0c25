//! Hostile input, in-process: the real scenario files and a real saved plan, mutated
//! (lines deleted, duplicated or swapped, numbers replaced by extremes, types swapped,
//! text truncated, invalid UTF-8 injected). Parsing and validation must never panic,
//! every refusal must carry file:line:col, and whatever is accepted must be inside the
//! bounds that keep a run finite (checked by generating its plans, and by running a few
//! accepted plans for real).

use std::path::Path;

use faultline::error::Error;
use faultline::plan::Plan;
use faultline::runner::Loaded;
use faultline::scenario::Scenario;
use proptest::prelude::*;

const SCENARIOS: &[&str] = &[
    "scenarios/business_cards.toml",
    "scenarios/chat_persistence.toml",
    "scenarios/loop_export.toml",
    "scenarios/offline_sync.toml",
    "scenarios/story_progress.toml",
];

/// What a number may be replaced with.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1e9",
    "1000000000",
    "9223372036854775807",
    "18446744073709551615",
    "inf",
    "nan",
    "-inf",
    "[2, 1]",
    "[-inf, 0.5]",
    "\"text\"",
    "true",
    "{}",
    "[]",
    "0.5",
];

/// One edit of a text, decoded from random numbers.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceNumber(usize, usize),
    Truncate(usize),
    InvalidUtf8(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceNumber(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceNumber(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceNumber(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::InvalidUtf8),
    ]
}

/// Applies `muts` to `text`; the result may no longer be UTF-8.
fn mutate(text: &str, muts: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut bytes = None;
    for m in muts {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *m {
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::ReplaceNumber(i, e) => {
                // The i-th number of the text (counting over all lines) becomes an extreme.
                let joined = lines.join("\n");
                let spans = number_spans(&joined);
                if spans.is_empty() {
                    continue;
                }
                let (s, t) = spans[i % spans.len()];
                let new = format!(
                    "{}{}{}",
                    &joined[..s],
                    EXTREMES[e % EXTREMES.len()],
                    &joined[t..]
                );
                lines = new.lines().map(str::to_string).collect();
            }
            Mutation::Truncate(i) => {
                let joined = lines.join("\n");
                let mut cut = i % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
            Mutation::InvalidUtf8(i) => {
                let mut b = lines.join("\n").into_bytes();
                let at = i % (b.len() + 1);
                b.insert(at, 0xff);
                bytes = Some(b);
            }
        }
    }
    bytes.unwrap_or_else(|| (lines.join("\n") + "\n").into_bytes())
}

/// Byte ranges of the decimal numbers in `text`.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric()
                    || b[i - 1] == b'_'
                    || b[i - 1] == b'-'
                    || b[i - 1] == b'.'))
        {
            let s = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            if i == b.len() || !b[i].is_ascii_alphabetic() {
                out.push((s, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The refusal names the file and a 1-based position.
fn assert_positioned(e: &Error, file: &Path) -> Result<(), TestCaseError> {
    match e {
        Error::Input {
            file: f,
            line,
            column,
            ..
        } => {
            prop_assert_eq!(f.as_path(), file);
            prop_assert!(*line >= 1 && *column >= 1, "{}", e);
            Ok(())
        }
        other => Err(TestCaseError::fail(format!(
            "refusal without a position: {other}"
        ))),
    }
}

/// Loads mutated scenario bytes the way `faultline run` does, up to its plans.
fn load_scenario(path: &Path, bytes: &[u8]) -> Result<Loaded, Error> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join(path.file_name().expect("a file name"));
    std::fs::write(&file, bytes).expect("written");
    let scenario = Scenario::load(&file).map_err(|e| match e {
        // Compare against the path the test knows.
        Error::Input {
            line,
            column,
            message,
            ..
        } => Error::Input {
            file: path.to_path_buf(),
            line,
            column,
            message,
        },
        other => other,
    })?;
    let mut s = scenario;
    s.path = path.to_path_buf();
    Loaded::new(s, &faultline_seeds::registry()).map_err(|e| match e {
        Error::Input {
            line,
            column,
            message,
            ..
        } => Error::Input {
            file: path.to_path_buf(),
            line,
            column,
            message,
        },
        other => other,
    })
}

fn saved_plan() -> String {
    let loaded = Loaded::load(
        "scenarios/business_cards.toml",
        &faultline_seeds::registry(),
    )
    .expect("the scenario loads");
    let plan = loaded.plan("naive", 1).expect("a plan");
    serde_json::to_string_pretty(&plan).expect("plans serialise")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_are_refused_with_a_position_or_stay_in_bounds(
        which in 0..SCENARIOS.len(),
        muts in prop::collection::vec(mutation(), 1..5),
        seed in 1u64..1000,
    ) {
        let path = Path::new(SCENARIOS[which]);
        let text = std::fs::read_to_string(path).expect("the scenario file");
        let bytes = mutate(&text, &muts);
        match load_scenario(path, &bytes) {
            Err(e) => assert_positioned(&e, path)?,
            Ok(loaded) => {
                // Accepted: every variant's plan is drawn and within the plan bounds, so
                // a run of it can neither hang nor allocate without limit.
                for v in loaded.variants() {
                    match loaded.plan(&v, seed) {
                        Ok(plan) => prop_assert!(plan.validate().is_ok(), "{:?}", plan.validate()),
                        Err(e) => assert_positioned(&e, path)?,
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_plans_are_refused_with_a_position_or_valid(
        muts in prop::collection::vec(mutation(), 1..5),
    ) {
        let path = Path::new("plan.json");
        let bytes = mutate(&saved_plan_text(), &muts);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(());
        };
        match Plan::parse(path, text) {
            Err(e) => assert_positioned(&e, path)?,
            Ok(plan) => prop_assert!(plan.validate().is_ok()),
        }
    }
}

proptest! {
    // Accepted mutated plans really run: a few, since each is a full simulation.
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn accepted_mutated_plans_run_without_panicking(
        muts in prop::collection::vec(mutation(), 1..3),
    ) {
        let path = Path::new("plan.json");
        let bytes = mutate(&saved_plan_text(), &muts);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(());
        };
        if let Ok(plan) = Plan::parse(path, text) {
            let loaded = Loaded::load("scenarios/business_cards.toml", &faultline_seeds::registry()).expect("loads");
            // A bad action or an unknown variant is an error, never a panic or a hang.
            let _ = loaded.execute(&plan);
        }
    }
}

fn saved_plan_text() -> String {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(saved_plan).clone()
}

#[test]
fn invalid_utf8_is_located_at_the_first_bad_byte() {
    let bytes = b"name = \"x\"\ndescription = \"ab\xffc\"\n";
    let e = load_scenario(Path::new("s.toml"), bytes)
        .err()
        .expect("refused");
    assert!(e.to_string().starts_with("s.toml:2:18:"), "{e}");
}

/// The mutations reach both outcomes, so the properties above test something: some
/// extremes are refused (with a position) and some edits are still accepted.
#[test]
fn mutations_reach_both_refusals_and_accepted_files() {
    let (mut refused, mut accepted) = (0, 0);
    for path in SCENARIOS {
        let path = Path::new(path);
        let text = std::fs::read_to_string(path).unwrap();
        for i in 0..20 {
            for e in [2, 4, 9] {
                match load_scenario(path, &mutate(&text, &[Mutation::ReplaceNumber(i, e)])) {
                    Ok(_) => accepted += 1,
                    Err(err) => {
                        assert_positioned(&err, path).unwrap();
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(
        refused > 50 && accepted > 0,
        "refused {refused}, accepted {accepted}"
    );
}
