//! `faultline check` as users run it: exit codes 0, 1, 2 and 3, messages, the HTML page.

mod common;
use common::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const GOOD: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 1\t:ok\t:read\tnil\n\
INFO  jepsen.util - 0\t:ok\t:write\t1\n\
INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
INFO  jepsen.util - 2\t:invoke\t:cas\t[1 4]\n\
INFO  jepsen.util - 2\t:ok\t:cas\t[1 4]\n\
INFO  jepsen.util - 3\t:invoke\t:write\t9\n\
INFO  jepsen.util - 3\t:info\t:write\t9\n\
INFO  jepsen.util - :nemesis\t:info\t:stop\tnil\n\
INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 1\t:ok\t:read\t4\n";

#[test]
fn exit_0_when_linearizable() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "good.txt", GOOD);
    let (code, out, err) = faultline(&["check", &path, "--model", "cas-register"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("jepsen-log history"), "{out}");
    assert!(out.contains("linearizable:"), "{out}");
}

#[test]
fn exit_1_with_a_witness_and_an_html_page() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    // The last read sees 1 after the cas to 4 completed.
    let bad = GOOD.replace(":ok\t:read\t4", ":ok\t:read\t1");
    let path = write(&dir, "bad.edn.log", &bad);
    let html = dir.path().join("page.html");
    let (code, out, err) = faultline(&[
        "check",
        &path,
        "--model",
        "cas-register",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("NOT linearizable"), "{out}");
    assert!(
        out.contains("cannot be placed next: #4 (process 1, line 11: read -> 1)"),
        "{out}"
    );
    assert!(
        out.contains("it returned 1 while the register held 4"),
        "{out}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("op ok breaking"),
        "{page}"
    );
    assert!(page.contains("class=\"band\""), "the nemesis band is drawn");
    assert!(page.contains("2. write 1"), "the order is numbered");
}

#[test]
fn exit_2_for_bad_input_naming_file_line_and_column() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "h.edn",
        "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0 :type :ok :f :read :value [1}\n",
    );
    let (code, _, err) = faultline(&["check", &path, "--model", "register"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("h.edn:2:41:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let path = write(&dir, "cas.log", GOOD);
    let (code, _, err) = faultline(&["check", &path, "--model", "register"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cas.log:6:"), "{err}");
    assert!(
        err.contains("not an operation of the register model"),
        "{err}"
    );

    let (code, _, err) = faultline(&["check", &path, "--model", "queue"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown model `queue`"), "{err}");

    let (code, _, err) = faultline(&["check", &path, "--model", "register", "--format", "jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cas.log:1:"), "{err}");
}

#[test]
fn exit_3_when_the_time_limit_is_reached() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    // Forty overlapping writes of distinct values, forty overlapping reads of them, and a
    // read of a value nobody wrote: proving that impossible means trying a vast number of
    // orders.
    let mut text = String::new();
    for p in 0..40 {
        text.push_str(&format!("INFO  jepsen.util - {p}\t:invoke\t:write\t{p}\n"));
        text.push_str(&format!(
            "INFO  jepsen.util - {}\t:invoke\t:read\tnil\n",
            p + 100
        ));
    }
    for p in 0..40 {
        text.push_str(&format!("INFO  jepsen.util - {p}\t:ok\t:write\t{p}\n"));
        text.push_str(&format!(
            "INFO  jepsen.util - {}\t:ok\t:read\t{p}\n",
            p + 100
        ));
    }
    text.push_str(
        "INFO  jepsen.util - 999\t:invoke\t:read\tnil\nINFO  jepsen.util - 999\t:ok\t:read\t77\n",
    );
    let path = write(&dir, "hard.log", &text);
    let started = std::time::Instant::now();
    let (code, out, err) =
        faultline(&["check", &path, "--model", "register", "--time-limit", "0.2"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("unknown: the time limit was reached"), "{out}");
    // Generous: the point is that it stops, not how fast (the benchmark measures that).
    assert!(started.elapsed().as_secs() < 30);
    let (code, out, _) = faultline(&["check", &path, "--model", "register", "--memory-limit", "1"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("memory limit"), "{out}");
}

#[test]
fn an_empty_history_is_linearizable() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "empty.edn", "");
    let (code, out, _) = faultline(&["check", &path, "--model", "kv"]);
    assert_eq!(code, 0, "{out}");
}
