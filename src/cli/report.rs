//! `faultline report merge` and `faultline report catch-table`.

use std::path::{Path, PathBuf};

use super::{progress_bar, scenario_files, to_json, write_extras, RunSet};
use crate::error::{Error, Result};
use crate::report::catch_table as table;

/// Merges the `--json` outputs of sharded runs and judges the whole.
pub(super) fn merge(files: &[PathBuf], json: bool, junit: Option<&Path>) -> Result<bool> {
    super::outputs::check_writable(&[junit])?;
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|source| Error::Io {
            path: f.clone(),
            source,
        })?;
        let set: RunSet = serde_json::from_str(&text).map_err(|e| Error::Input {
            file: f.clone(),
            line: e.line().max(1),
            column: e.column().max(1),
            message: format!("expected the output of `faultline run --json`: {e}"),
        })?;
        if set.format != crate::report::summary::RUN_FORMAT {
            let offset = crate::plan::json_span::offset_of(&text, &["format".to_string()]);
            return Err(Error::at_offset(
                f,
                &text,
                offset,
                format!(
                    "format {} is not supported; expected the output of `faultline run --json` in format {}",
                    set.format,
                    crate::report::summary::RUN_FORMAT
                ),
            ));
        }
        docs.extend(set.runs);
    }
    let merged = crate::report::summary::merge(docs).map_err(Error::Usage)?;
    if json {
        println!("{}", to_json(&RunSet::new(merged.clone())));
    } else {
        print!("{}", crate::report::markdown::render(&merged));
    }
    write_extras(&merged, junit, None)?;
    Ok(merged.iter().all(|d| d.as_expected))
}

/// Measures every scenario in `dir` and writes the catch table into `readme`.
pub(super) fn catch_table(
    registry: &crate::system::Registry,
    readme: &Path,
    dir: &Path,
    seeds: u64,
    jobs: Option<usize>,
) -> Result<bool> {
    // A README without markers fails before minutes of measuring, not after.
    table::spliced(readme, "")?;
    let jobs = super::jobs_of(jobs)?;
    crate::seeds::Seeds::first_n(seeds)?;
    let rows = table::measure(registry, &scenario_files(dir)?, seeds, jobs, &progress_bar)?;
    let text = table::render(&rows, seeds);
    table::splice(readme, &text)?;
    print!("{text}");
    println!("wrote the catch table into {}", readme.display());
    Ok(true)
}
