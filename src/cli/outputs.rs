//! Output files checked before a run starts, so an unwritable `--junit` or `--history`
//! path is a usage error in a second, not after minutes of simulation.

use std::path::Path;

use crate::error::{Error, Result};

/// Checks that each given path can be written: an existing file is opened for writing
/// (without truncating it, so a refused run leaves it as it was), a new one must have a
/// folder that exists and accepts a file, which is created and removed again.
pub fn check_writable(paths: &[Option<&Path>]) -> Result<()> {
    for path in paths.iter().flatten() {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "{}: is a folder; expected a file to write",
                path.display()
            )));
        }
        if path.exists() {
            std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(io)?;
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(io)?;
            std::fs::remove_file(path).map_err(io)?;
        }
    }
    Ok(())
}

/// Creates `dir` (and its parents) now, so a folder that cannot be made fails up front.
pub fn check_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let probe = dir.join(format!(".faultline-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}
