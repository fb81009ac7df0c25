//! The three history formats, their recognition by content, and bad input: every error
//! names the line (and column) and what was expected; no input makes a reader panic.

use std::path::Path;

use faultline::linear::input::{read, Format, Independent, Options};
use faultline::linear::{Action, Mapping, Model, Status, Value};
use faultline::Error;
use proptest::prelude::*;

fn opts(model: Model) -> Options {
    Options {
        model,
        format: None,
        independent: Independent::Auto,
        mapping: Mapping::default(),
    }
}

fn parse(text: &str, model: Model) -> Result<faultline::linear::input::Parsed, Error> {
    read(text.as_bytes(), Path::new("h.txt"), &opts(model))
}

fn input_error(text: &str, model: Model) -> (usize, usize, String) {
    match parse(text, model) {
        Err(Error::Input {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected an input error, got {other:?}"),
    }
}

const EDN_LINES: &str = r#"{:process 0, :type :invoke, :f :write, :value 1, :time 10}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :write, :value 1}
{:process :nemesis, :type :info, :f :start, :value "partition {\"n1\" #{\"n2\"}}"}
{:process 1, :type :ok, :f :read, :value 1}
{:process 2, :type :invoke, :f :cas, :value [1 4]}
{:process 2, :type :fail, :f :cas, :value [1 4], :error :timeout}
{:process :nemesis, :type :info, :f :stop, :value nil}
"#;

#[test]
fn edn_one_map_per_line() {
    let p = parse(EDN_LINES, Model::CasRegister).unwrap();
    assert_eq!(p.format, Format::Edn);
    assert_eq!(p.ops.len(), 3);
    assert_eq!(p.ops[1].action, Action::Read(Some(Value::Int(1))));
    assert_eq!(p.ops[2].status, Status::Fail);
    assert_eq!(p.ops[2].line, Some(6));
    assert_eq!(p.faults.len(), 2);
    assert_eq!(p.faults[0].f, "start");
}

#[test]
fn edn_vector_of_maps_with_rich_values() {
    let text = "[{:process 0 :type :invoke :f :append :key :k1 :value #{1 2}}\n \
                {:process 0 :type :ok :f :append :key :k1 :value #{2 1}}\n \
                {:process 1 :type :invoke :f :get :key :k1 :value nil}\n \
                {:process 1 :type :ok :f :get :key :k1 :value [#{1 2}]} ; a comment\n]\n";
    let p = parse(text, Model::Kv).unwrap();
    assert_eq!(p.ops.len(), 2);
    assert_eq!(p.ops[0].key, Some(Value::Keyword("k1".into())));
    let set = Value::set(vec![Value::Int(1), Value::Int(2)]);
    assert_eq!(p.ops[0].action, Action::Append(set.clone()));
    assert_eq!(
        p.ops[1].action,
        Action::Read(Some(Value::Vector(vec![set])))
    );
}

#[test]
fn edn_independent_keys_are_detected() {
    let text = "{:process 0, :type :invoke, :f :cas, :value [3 [1 4]]}\n\
                {:process 0, :type :info, :f :cas, :value [3 [1 4]]}\n\
                {:process 1, :type :invoke, :f :read, :value [3 nil]}\n\
                {:process 1, :type :ok, :f :read, :value [3 4]}\n";
    let p = parse(text, Model::CasRegister).unwrap();
    assert!(p.independent);
    assert_eq!(p.ops[0].key, Some(Value::Int(3)));
    assert_eq!(p.ops[0].action, Action::Cas(Value::Int(1), Value::Int(4)));
    assert_eq!(p.ops[0].status, Status::Info);
    assert_eq!(p.ops[1].action, Action::Read(Some(Value::Int(4))));
}

#[test]
fn jepsen_log_lines_with_a_preamble_and_nemesis() {
    let text = "2017-01-01 INFO  jepsen.core - Running test\n\
                INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\n\
                INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
                INFO  jepsen.util - 3\t:ok\t:cas\t[1 4]\n\
                INFO  jepsen.util - 4\t:invoke\t:read\tnil\n\
                INFO  jepsen.util - :nemesis\t:info\t:stop\t\"fully connected\"\n";
    let p = parse(text, Model::CasRegister).unwrap();
    assert_eq!(p.format, Format::JepsenLog);
    assert_eq!(p.ops.len(), 2);
    assert_eq!(p.ops[0].line, Some(2));
    // An invoke that never completed is unknown.
    assert_eq!(p.ops[1].status, Status::Info);
    assert_eq!(p.faults.len(), 2);
}

#[test]
fn faultline_jsonl_with_keys() {
    let text = r#"{"index":0,"time_us":0,"process":"c1","type":"invoke","f":"put","op":1,"key":"x","value":5}
{"index":1,"time_us":3,"process":"nemesis","type":"fault","f":"partition","value":{"a":"c1","b":"store"}}
{"index":2,"time_us":5,"process":"c1","type":"ok","f":"put","op":1,"value":5}
{"index":3,"time_us":6,"process":"c2","type":"invoke","f":"get","op":2,"value":{"key":"x"}}
{"index":4,"time_us":9,"process":"c2","type":"ok","f":"get","op":2,"value":{"key":"x","value":5}}
"#;
    let p = parse(text, Model::Kv).unwrap();
    assert_eq!(p.format, Format::Jsonl);
    assert_eq!(p.ops.len(), 2);
    assert_eq!(p.ops[0].key, Some(Value::Str("x".into())));
    assert_eq!(p.ops[1].key, Some(Value::Str("x".into())));
    assert_eq!(p.ops[1].action, Action::Read(Some(Value::Int(5))));
    assert_eq!(p.faults.len(), 1);
}

#[test]
fn bad_input_names_the_line_and_what_was_expected() {
    let (line, col, msg) = input_error(
        "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :read, :value [1 2}\n",
        Model::Register,
    );
    assert_eq!((line, col), (2, 46), "{msg}");
    assert!(
        msg.contains("expected `]`") || msg.contains("unexpected `}`"),
        "{msg}"
    );

    let (line, _, msg) = input_error(
        "{:process 0, :type :ok, :f :read, :value 1}\n",
        Model::Register,
    );
    assert_eq!(line, 1);
    assert!(msg.contains("no open invoke"), "{msg}");

    let (line, _, msg) = input_error(
        "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :invoke, :f :read, :value nil}\n",
        Model::Register,
    );
    assert_eq!(line, 2);
    assert!(
        msg.contains("still open") && msg.contains("line 1"),
        "{msg}"
    );

    let (line, col, msg) = input_error(
        "INFO  jepsen.util - 1\t:invoke\t:write\t2\nINFO  jepsen.util - 1\t:ok\t:write\t2\nINFO  jepsen.util - 2\t:invoke\t:cas\t[2 3]\n",
        Model::Register,
    );
    assert_eq!(line, 3);
    assert!(col > 1);
    assert!(
        msg.contains("not an operation of the register model"),
        "{msg}"
    );

    let (line, _, msg) = input_error(
        "{:process 0, :type :invoke, :f :append, :value 1}\n",
        Model::CasRegister,
    );
    assert_eq!(line, 1);
    assert!(msg.contains("cas-register"), "{msg}");

    let (line, _, msg) = input_error(
        "{:process 0, :type :invoke, :f :cas, :value 7}\n",
        Model::CasRegister,
    );
    assert_eq!(line, 1);
    assert!(msg.contains("[old new]"), "{msg}");

    let (line, col, msg) = input_error(
        "INFO  jepsen.util - 1\t:invoke\t:write\t[1 2\n",
        Model::Register,
    );
    assert_eq!(line, 1);
    assert!(col > 30, "{col}");
    assert!(msg.contains("in a value"), "{msg}");

    let (line, col, msg) = input_error("hello there\n", Model::Register);
    assert_eq!((line, col), (1, 1));
    assert!(msg.contains("expected faultline JSON Lines"), "{msg}");

    let (line, _, msg) = input_error(
        "{\"index\":0,\"process\":\"a\",\"type\":\"invoke\",\"f\":\"read\"}\nnot json\n",
        Model::Register,
    );
    assert_eq!(line, 2);
    assert!(msg.contains("expected a history entry"), "{msg}");
}

#[test]
fn a_forced_format_is_used_whatever_the_content_looks_like() {
    let mut o = opts(Model::Register);
    o.format = Some(Format::Jsonl);
    let err = read(EDN_LINES.as_bytes(), Path::new("h.edn"), &o).unwrap_err();
    assert!(matches!(err, Error::Input { line: 1, .. }), "{err}");
}

const SAMPLES: [&str; 3] = [
    EDN_LINES,
    "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\nINFO  jepsen.util - 3\t:ok\t:cas\t[1 4]\nINFO  jepsen.util - :nemesis\t:info\t:start\tnil\n",
    "{\"index\":0,\"time_us\":0,\"process\":\"c1\",\"type\":\"invoke\",\"f\":\"write\",\"op\":1,\"value\":5}\n{\"index\":1,\"time_us\":5,\"process\":\"c1\",\"type\":\"ok\",\"f\":\"write\",\"op\":1,\"value\":5}\n",
];

fn mutate(text: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, how, c) in edits {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let at = at % chars.len();
        match how % 3 {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(at, c),
            _ => chars[at] = c,
        }
    }
    chars.into_iter().collect()
}

fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '{', '}', '[', ']', '(', ')', '#', ':', '"', '\\', '\t', '\n', ' ', ',', ';', '_', '-',
            '0', '9', 'N', 'e', '.', 'é', '\u{0}'
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_histories_never_panic_and_errors_are_positioned(
        sample in 0usize..SAMPLES.len(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), interesting_char()), 1..6),
        model in prop::sample::select(vec![Model::Register, Model::CasRegister, Model::Kv]),
        forced in prop::option::of(prop::sample::select(vec![Format::Jsonl, Format::Edn, Format::JepsenLog])),
    ) {
        let text = mutate(SAMPLES[sample], &edits);
        let lines = text.split('\n').count();
        let mut o = opts(model);
        o.format = forced;
        match read(text.as_bytes(), Path::new("m.txt"), &o) {
            Ok(_) => {}
            Err(Error::Input { line, column, message, .. }) => {
                prop_assert!(line >= 1 && line <= lines, "line {} of {}: {}", line, lines, message);
                prop_assert!(column >= 1);
                prop_assert!(!message.is_empty());
            }
            Err(other) => prop_assert!(false, "not an input error: {}", other),
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for format in [None, Some(Format::Jsonl), Some(Format::Edn), Some(Format::JepsenLog)] {
            let mut o = opts(Model::Kv);
            o.format = format;
            match read(&bytes[..], Path::new("g.bin"), &o) {
                Ok(_) | Err(Error::Input { .. }) => {}
                Err(other) => prop_assert!(false, "not an input error: {}", other),
            }
        }
    }
}
