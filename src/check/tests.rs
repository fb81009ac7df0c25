use proptest::prelude::*;
use serde_json::json;

use super::testing::{state, Builder};
use super::{duplicate_create, lost_updates, unique_slugs, FinalState};
use crate::history::EntryType;

const T: &str = "cards";

#[test]
fn unique_slugs_catches_shared_slug_and_passes_distinct() {
    let mut h = Builder::default();
    h.create_ok("a", 1, "f1", 1, "my-card")
        .create_ok("b", 2, "f2", 2, "my-card");
    let bad = state(
        T,
        json!([{"id": 1, "slug": "my-card"}, {"id": 2, "slug": "my-card"}]),
    );
    let v = unique_slugs::check(&h.history, &bad, T, "slug");
    let violation = v.violation.expect("two rows share a slug");
    assert_eq!(violation.ops.len(), 2);
    assert!(violation.explanation.contains("'my-card'"));

    let mut ok = Builder::default();
    ok.create_ok("a", 1, "f1", 1, "my-card")
        .create_ok("b", 2, "f2", 2, "my-card-3fa9c1");
    let good = state(
        T,
        json!([{"id": 1, "slug": "my-card"}, {"id": 2, "slug": "my-card-3fa9c1"}]),
    );
    assert!(unique_slugs::check(&ok.history, &good, T, "slug").is_ok());
}

#[test]
fn unique_slugs_catches_two_acks_with_one_slug_even_if_a_row_vanished() {
    let mut h = Builder::default();
    h.create_ok("a", 1, "f1", 1, "x")
        .create_ok("b", 2, "f2", 2, "x");
    let st = state(T, json!([{"id": 1, "slug": "x"}]));
    assert!(!unique_slugs::check(&h.history, &st, T, "slug").is_ok());
}

#[test]
fn duplicate_create_catches_two_rows_for_one_form() {
    let mut h = Builder::default();
    h.invoke("a", "create", 1, json!({"form_id": "f1", "name": "n"}));
    h.complete(
        "a",
        EntryType::Ok,
        "create",
        1,
        json!({"id": 2, "slug": "n-1", "form_id": "f1", "attempts": 2}),
    );
    let bad = state(
        T,
        json!([{"id": 1, "form_id": "f1"}, {"id": 2, "form_id": "f1"}]),
    );
    let v = duplicate_create::check(&h.history, &bad, T, "form_id", duplicate_create::NAME);
    let violation = v.violation.expect("one form, two rows");
    assert!(
        violation.explanation.contains("timed out"),
        "{}",
        violation.explanation
    );
    assert_eq!(violation.ops.len(), 1);

    let good = state(
        T,
        json!([{"id": 1, "form_id": "f1"}, {"id": 2, "form_id": "f2"}, {"id": 3, "form_id": null}]),
    );
    assert!(
        duplicate_create::check(&h.history, &good, T, "form_id", duplicate_create::NAME).is_ok()
    );
}

/// Ground truth is the form the history shows the user submitted, not the key the client
/// wrote: a key made per request hides the duplicate from the keyed check.
#[test]
fn duplicate_create_per_form_counts_rows_against_submitted_forms() {
    let mut h = Builder::default();
    for (op, form) in [(1, "f1"), (2, "f2")] {
        h.invoke("a", "create", op, json!({"form_id": form, "name": "n"}));
        h.complete("a", EntryType::Ok, "create", op, json!({"form_id": form}));
    }
    h.invoke("a", "create", 3, json!({"form_id": "f3", "name": "m"}));
    let check = |st: &FinalState| {
        duplicate_create::check_per_form(
            &h.history,
            st,
            T,
            "form_id",
            "name",
            duplicate_create::NAME,
        )
    };
    let invented = state(
        T,
        json!([{"id": 1, "form_id": "f1/1/1", "name": "n"}, {"id": 2, "form_id": "f1/1/2", "name": "n"},
               {"id": 3, "form_id": "f2/2/1", "name": "n"}, {"id": 4, "name": "seed"}]),
    );
    assert!(
        duplicate_create::check(&h.history, &invented, T, "form_id", duplicate_create::NAME)
            .is_ok(),
        "the keyed check trusts the client's keys"
    );
    let v = check(&invented).violation.expect("two forms, three rows");
    assert!(v.explanation.contains("3 rows"), "{}", v.explanation);
    assert_eq!(v.ops.len(), 2);
    let good = state(
        T,
        json!([{"id": 1, "form_id": "f1", "name": "n"}, {"id": 2, "form_id": "f2", "name": "n"},
               {"id": 3, "form_id": "f3", "name": "m"}, {"id": 4, "name": "seed"}]),
    );
    assert!(check(&good).is_ok());
    let keyed = state(
        T,
        json!([{"id": 1, "form_id": "f1", "name": "n"}, {"id": 2, "form_id": "f1", "name": "x"}]),
    );
    assert!(!check(&keyed).is_ok(), "the keyed check still runs first");
}

/// A create the user was told failed must have made nothing: its row is a card the user
/// believes does not exist (and will submit again). A form one submission of which
/// succeeded, or whose outcome is unknown, may have made its row.
#[test]
fn duplicate_create_per_form_counts_a_failed_form_that_made_a_row() {
    let rows = state(
        T,
        json!([{"id": 1, "form_id": "f1", "name": "n"}, {"id": 2, "form_id": "f2", "name": "n"}]),
    );
    let judge = |second: &[EntryType]| {
        let mut h = Builder::default();
        h.invoke("a", "create", 1, json!({"form_id": "f1", "name": "n"}));
        h.complete("a", EntryType::Ok, "create", 1, json!({"form_id": "f1"}));
        for (i, kind) in second.iter().enumerate() {
            let op = 2 + i as u32;
            h.invoke("b", "create", op, json!({"form_id": "f2", "name": "n"}));
            h.complete("b", *kind, "create", op, json!({}));
        }
        duplicate_create::check_per_form(
            &h.history,
            &rows,
            T,
            "form_id",
            "name",
            duplicate_create::NAME,
        )
    };
    let v = judge(&[EntryType::Fail])
        .violation
        .expect("a failed form made a row");
    assert!(
        v.explanation.contains("told had failed"),
        "{}",
        v.explanation
    );
    assert!(
        judge(&[EntryType::Info]).is_ok(),
        "an unknown outcome may have made it"
    );
    assert!(
        judge(&[EntryType::Fail, EntryType::Ok]).is_ok(),
        "the other submission of a double submit made it"
    );
    let none = state(T, json!([{"id": 1, "form_id": "f1", "name": "n"}]));
    let mut h = Builder::default();
    h.invoke("a", "create", 1, json!({"form_id": "f1", "name": "n"}));
    h.complete("a", EntryType::Ok, "create", 1, json!({"form_id": "f1"}));
    h.invoke("b", "create", 2, json!({"form_id": "f2", "name": "n"}));
    h.complete("b", EntryType::Fail, "create", 2, json!({}));
    assert!(
        duplicate_create::check_per_form(
            &h.history,
            &none,
            T,
            "form_id",
            "name",
            duplicate_create::NAME
        )
        .is_ok(),
        "a failed form that made nothing"
    );
}

fn card(title: &str, email: &str, version: i64) -> serde_json::Value {
    json!([{"id": 1, "title": title, "email": email, "version": version}])
}

#[test]
fn lost_updates_catches_a_stale_whole_form_resend() {
    // Tab a changes the title; tab b, holding a form loaded before, changes the email and
    // resends the whole form, putting the old title back.
    let mut h = Builder::default();
    h.edit_ok(
        "a",
        1,
        1,
        json!({"title": "A"}),
        2,
        json!({"title": "A", "email": "e0"}),
    );
    h.edit_ok(
        "b",
        2,
        1,
        json!({"email": "B"}),
        3,
        json!({"title": "t0", "email": "B"}),
    );
    let v = lost_updates::check(&h.history, &state(T, card("t0", "B", 3)), T);
    let violation = v.violation.expect("a's title was lost");
    assert!(
        violation.explanation.contains("title='A'"),
        "{}",
        violation.explanation
    );
    assert_eq!(
        violation.ops.len(),
        2,
        "names the lost edit and the overwriting one"
    );
}

#[test]
fn lost_updates_catches_a_transient_loss_the_final_state_hides() {
    // b clobbers a's title, then c sets the title again: the final state looks right but
    // a's acknowledged change was silently replaced in between.
    let mut h = Builder::default();
    h.edit_ok("a", 1, 1, json!({"title": "A"}), 2, json!({"title": "A"}));
    h.edit_ok(
        "b",
        2,
        1,
        json!({"email": "B"}),
        3,
        json!({"title": "t0", "email": "B"}),
    );
    h.edit_ok("c", 3, 1, json!({"title": "C"}), 4, json!({"title": "C"}));
    assert!(!lost_updates::check(&h.history, &state(T, card("C", "B", 4)), T).is_ok());
}

#[test]
fn lost_updates_passes_field_level_merges_and_last_writer_wins_on_one_field() {
    let mut h = Builder::default();
    h.edit_ok("a", 1, 1, json!({"title": "A"}), 2, json!({"title": "A"}));
    h.edit_ok("b", 2, 1, json!({"email": "B"}), 3, json!({"email": "B"}));
    h.edit_ok("c", 3, 1, json!({"title": "C"}), 4, json!({"title": "C"}));
    assert!(lost_updates::check(&h.history, &state(T, card("C", "B", 4)), T).is_ok());
}

#[test]
fn lost_updates_accepts_an_unknown_edit_as_last_writer_but_not_a_failed_one() {
    let mut h = Builder::default();
    h.edit_ok("a", 1, 1, json!({"title": "A"}), 2, json!({"title": "A"}));
    h.invoke("b", "edit", 2, json!({"key": 1, "intent": {"title": "B"}}));
    h.complete("b", EntryType::Info, "edit", 2, json!({"key": 1}));
    assert!(lost_updates::check(&h.history, &state(T, card("B", "e0", 3)), T).is_ok());

    let mut f = Builder::default();
    f.edit_ok("a", 1, 1, json!({"title": "A"}), 2, json!({"title": "A"}));
    f.invoke("b", "edit", 2, json!({"key": 1, "intent": {"title": "B"}}));
    f.complete("b", EntryType::Fail, "edit", 2, json!({"key": 1}));
    assert!(!lost_updates::check(&f.history, &state(T, card("B", "e0", 3)), T).is_ok());
}

proptest! {
    /// Every sequential history of a correct register passes: edits applied one at a
    /// time, each to the latest version, writing only what they meant to change.
    #[test]
    fn sequential_register_histories_pass(edits in prop::collection::vec((0usize..3, 0u8..4, any::<bool>()), 1..40)) {
        let fields = ["title", "email", "phone"];
        let mut row = serde_json::Map::new();
        for f in fields {
            row.insert(f.into(), json!(format!("{f}-0")));
        }
        let mut h = Builder::default();
        for (i, (field, who, whole_form)) in edits.iter().enumerate() {
            let f = fields[*field];
            let value = json!(format!("{f}-{i}"));
            row.insert(f.into(), value.clone());
            // A whole form built from the latest row is no lost update either.
            let written = if *whole_form { serde_json::Value::Object(row.clone()) } else { json!({f: value}) };
            let version = i as i64 + 2;
            h.edit_ok(&format!("c{who}"), i as u32, 1, json!({f: value}), version, written);
        }
        let mut final_row = row.clone();
        final_row.insert("id".into(), json!(1));
        let st = state(T, serde_json::Value::Array(vec![serde_json::Value::Object(final_row)]));
        prop_assert!(lost_updates::check(&h.history, &st, T).is_ok());
    }

    /// Dropping the effect of any acknowledged edit that was the last to touch its field
    /// is always caught.
    #[test]
    fn losing_a_last_write_is_caught(n in 1usize..20, pick in any::<prop::sample::Index>()) {
        let mut h = Builder::default();
        for i in 0..n {
            h.edit_ok("c", i as u32, 1, json!({"title": format!("v{i}")}), i as i64 + 2, json!({"title": format!("v{i}")}));
        }
        let lost = pick.index(n);
        let shown = if lost == n - 1 { "stale".to_string() } else { format!("v{}", n - 1) };
        let st = state(T, json!([{"id": 1, "title": shown}]));
        prop_assert_eq!(lost_updates::check(&h.history, &st, T).is_ok(), lost != n - 1);
    }
}

#[test]
fn unique_slugs_names_only_the_acknowledged_creates_of_the_shared_slug() {
    let mut h = Builder::default();
    h.create_ok("a", 1, "f1", 1, "my-card")
        .create_ok("b", 2, "f2", 2, "my-card")
        .create_ok("c", 3, "f3", 3, "other");
    h.invoke("d", "create", 4, json!({"form_id": "f4", "name": "n"}));
    h.complete(
        "d",
        EntryType::Info,
        "create",
        4,
        json!({"id": 4, "slug": "my-card"}),
    );
    let bad = state(
        T,
        json!([{"id": 1, "slug": "my-card"}, {"id": 2, "slug": "my-card"}, {"id": 3, "slug": "other"}]),
    );
    let v = unique_slugs::check(&h.history, &bad, T, "slug")
        .violation
        .unwrap();
    let named: Vec<usize> = v.ops.iter().map(|w| w.index).collect();
    assert_eq!(named, [0, 2]);
    assert_eq!(v.ops[0].detail, "create 'n' -> slug 'my-card', id 1");
    assert!(
        v.explanation
            .starts_with("2 cards share the slug 'my-card' (ids 1, 2):"),
        "{}",
        v.explanation
    );
}

#[test]
fn unique_slugs_accepts_one_card_acknowledged_twice_with_its_slug() {
    // A retried create answered with the card it made the first time.
    let mut h = Builder::default();
    h.create_ok("a", 1, "f1", 1, "x")
        .create_ok("a", 2, "f1", 1, "x");
    let st = state(T, json!([{"id": 1, "slug": "x"}]));
    assert!(unique_slugs::check(&h.history, &st, T, "slug").is_ok());
}

#[test]
fn duplicate_create_tells_a_double_submit_from_a_retry() {
    let mut h = Builder::default();
    h.invoke("a", "create", 1, json!({"form_id": "f1", "name": "n"}));
    h.complete("a", EntryType::Ok, "create", 1, json!({"id": 1}));
    h.invoke("a", "create", 2, json!({"form_id": "f1", "name": "n"}));
    h.complete(
        "a",
        EntryType::Ok,
        "create",
        2,
        json!({"id": 2, "attempts": 1}),
    );
    h.invoke("a", "create", 3, json!({"form_id": "f2", "name": "n"}));
    let bad = state(
        T,
        json!([{"id": 1, "form_id": "f1"}, {"id": 2, "form_id": "f1"}]),
    );
    let v = duplicate_create::check(&h.history, &bad, T, "form_id", duplicate_create::NAME)
        .violation
        .unwrap();
    let named: Vec<usize> = v.ops.iter().map(|w| w.index).collect();
    assert_eq!(named, [0, 2]);
    assert_eq!(v.ops[1].detail, "create form_id=\"f1\", 1 attempts");
    assert!(
        v.explanation.starts_with(
            "One logical create (form_id \"f1\") produced 2 rows (ids 1, 2): the same submission was sent more than once"
        ),
        "{}",
        v.explanation
    );
}

#[test]
fn lost_updates_names_the_stale_resend_of_this_card_as_the_culprit() {
    let mut h = Builder::default();
    h.edit_ok("a", 1, 1, json!({"title": "A"}), 2, json!({"title": "A"}));
    h.edit_ok(
        "b",
        2,
        1,
        json!({"email": "B"}),
        3,
        json!({"title": "t0", "email": "B"}),
    );
    // Another card's resend of the same stale value, at a higher version, is not the culprit.
    h.edit_ok(
        "c",
        3,
        2,
        json!({"email": "C"}),
        9,
        json!({"title": "t0", "email": "C"}),
    );
    let mut st = state(T, card("t0", "B", 3));
    st.tables.get_mut(T).unwrap().push(
        json!({"id": 2, "title": "t0", "email": "C"})
            .as_object()
            .cloned()
            .unwrap(),
    );
    let v = lost_updates::check(&h.history, &st, T).violation.unwrap();
    let named: Vec<usize> = v.ops.iter().map(|w| w.index).collect();
    assert_eq!(named, [0, 2]);
    assert_eq!(
        v.ops[0].detail,
        "edit card 1 meaning to set title='A' -> version 2"
    );
}

#[test]
fn lost_updates_does_not_take_an_edit_at_the_same_version_as_an_earlier_one() {
    // b's write of the title at version 3 follows a's title at version 2; the title edit
    // that also claims version 3 is not before it, so b replaced a's change.
    let mut h = Builder::default();
    h.edit_ok("a", 1, 1, json!({"title": "A"}), 2, json!({"title": "A"}));
    h.edit_ok("c", 2, 1, json!({"title": "t0"}), 3, json!({"title": "t0"}));
    h.edit_ok(
        "b",
        3,
        1,
        json!({"email": "B"}),
        3,
        json!({"title": "t0", "email": "B"}),
    );
    let v = lost_updates::check(&h.history, &state(T, card("t0", "B", 3)), T)
        .violation
        .expect("b put the stale title back over a's");
    let named: Vec<usize> = v.ops.iter().map(|w| w.index).collect();
    assert_eq!(named, [0, 4]);
}
