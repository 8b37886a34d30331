//! `ghl setup` driven through a pseudo-terminal against `ghl sandbox serve`.

mod setup_support;

use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{ControlCode, Eof, Expect, Session};
use setup_support::{DEFAULT_TOKEN, DEMO_LOCATION, World};

type Pty = expectrl::session::OsSession;

fn wizard(world: &World, base_url: &str, extra_env: &[(&str, &str)]) -> Pty {
    let mut cmd = world.ghl();
    cmd.args(["--base-url", base_url, "setup"]);
    cmd.envs(extra_env.iter().copied());
    let mut s = Session::spawn(cmd).expect("spawn ghl setup in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    s
}

/// Wait for `needle`; on failure show what the screen had.
fn see(s: &mut Pty, needle: &str) -> String {
    match s.expect(needle) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned() + needle,
        Err(e) => panic!("did not see {needle:?}: {e}"),
    }
}

/// Type `text` and press Enter (a raw-mode terminal wants `\r`).
fn answer(s: &mut Pty, text: &str) {
    s.send(text).unwrap();
    s.send("\r").unwrap();
}

/// Read to the end and return the exit code.
fn finish(s: &mut Pty) -> (i32, String) {
    let rest = match s.expect(Eof) {
        Ok(found) => String::from_utf8_lossy(found.as_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let code = match s.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("ghl setup ended oddly: {other:?}"),
    };
    (code, rest)
}

fn pick_use_case_and_give_token(s: &mut Pty, token: &str) -> String {
    let mut seen = see(s, "What will you use ghl for?");
    answer(s, ""); // the first set: contacts only
    seen += &see(s, "contacts.write");
    seen += &see(s, "Private Integration token");
    answer(s, token);
    seen
}

#[test]
fn good_run_shows_five_contacts_and_saves_a_private_profile() {
    let world = World::new();
    let server = world.serve();
    let token = world.mint(None);
    let mut s = wizard(&world, &server.base_url, &[]);
    let mut screen = see(&mut s, "Nothing is saved until the end");
    screen += &pick_use_case_and_give_token(&mut s, &token);
    screen += &see(&mut s, "Location ID");
    answer(&mut s, DEMO_LOCATION);
    screen += &see(&mut s, "Connected to \"Sandbox Demo Agency\"");
    screen += &see(&mut s, "Your first 5 contacts");
    screen += &see(&mut s, "Save as profile");
    answer(&mut s, ""); // default
    screen += &see(
        &mut s,
        "Saved profile \"default\" (now the default profile)",
    );
    let (code, rest) = finish(&mut s);
    screen += &rest;
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains(&token), "the token was echoed:\n{screen}");
    assert_eq!(screen.matches("    • ").count(), 5, "{screen}");

    assert_eq!(world.config_mode(), 0o600);
    let cfg = world.config_text().expect("config written");
    assert!(cfg.contains("default_profile = \"default\""), "{cfg}");
    assert!(cfg.contains(DEMO_LOCATION), "{cfg}");
    assert!(cfg.contains(&server.base_url), "{cfg}");

    // The saved profile works on its own.
    let out = world.run(&["auth", "status", "-o", "json"], "", &[]);
    assert!(out.status.success(), "{}", setup_support::text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["works"], true);
    assert_eq!(v["location_name"], "Sandbox Demo Agency");
}

#[test]
fn a_wrong_token_is_explained_and_can_be_corrected() {
    let world = World::new();
    let server = world.serve();
    let mut s = wizard(&world, &server.base_url, &[]);
    pick_use_case_and_give_token(&mut s, "pit-wrong-0000-0000-0000-000000000000");
    see(&mut s, "Location ID");
    answer(&mut s, DEMO_LOCATION);
    see(&mut s, "HighLevel refused the token");
    see(&mut s, "What now?");
    answer(&mut s, ""); // Enter the token again
    see(&mut s, "Private Integration token");
    answer(&mut s, DEFAULT_TOKEN);
    see(&mut s, "Connected to");
    see(&mut s, "Save as profile");
    answer(&mut s, "clinic");
    see(&mut s, "Saved profile \"clinic\"");
    let (code, _) = finish(&mut s);
    assert_eq!(code, 0);
    let cfg = world.config_text().unwrap();
    assert!(cfg.contains("[profiles.clinic]"), "{cfg}");
    assert!(!cfg.contains("pit-wrong"), "{cfg}");
}

#[test]
fn a_wrong_location_is_named_and_can_be_corrected() {
    let world = World::new();
    let server = world.serve();
    let mut s = wizard(&world, &server.base_url, &[]);
    pick_use_case_and_give_token(&mut s, DEFAULT_TOKEN);
    see(&mut s, "Location ID");
    answer(&mut s, "OtherLoc000000000001");
    see(&mut s, "not for location OtherLoc000000000001");
    see(&mut s, "What now?");
    answer(&mut s, ""); // Enter the Location ID again
    see(&mut s, "Location ID");
    answer(&mut s, DEMO_LOCATION);
    see(&mut s, "Connected to");
    see(&mut s, "Save as profile");
    answer(&mut s, "");
    let (code, screen) = finish(&mut s);
    assert_eq!(code, 0, "{screen}");
    assert!(world.config_text().unwrap().contains(DEMO_LOCATION));
}

#[test]
fn a_pasted_app_url_and_the_environment_token_are_used() {
    let world = World::new();
    let server = world.serve();
    let mut s = wizard(
        &world,
        &server.base_url,
        &[("HIGHLEVEL_TOKEN", DEFAULT_TOKEN)],
    );
    see(&mut s, "Found a token in HIGHLEVEL_TOKEN (pit-…0000)");
    answer(&mut s, "y");
    see(&mut s, "Location ID");
    answer(
        &mut s,
        &format!("https://app.gohighlevel.com/v2/location/{DEMO_LOCATION}/dashboard"),
    );
    see(&mut s, &format!("Location ID: {DEMO_LOCATION}"));
    see(&mut s, "Connected to");
    see(&mut s, "Save as profile");
    answer(&mut s, "");
    let (code, _) = finish(&mut s);
    assert_eq!(code, 0);
    let cfg = world.config_text().unwrap();
    assert!(
        cfg.contains(&format!("location_id = \"{DEMO_LOCATION}\"")),
        "{cfg}"
    );
}

#[test]
fn ctrl_c_midway_leaves_no_config_file() {
    let world = World::new();
    let server = world.serve();
    // At the location prompt.
    let mut s = wizard(&world, &server.base_url, &[]);
    pick_use_case_and_give_token(&mut s, DEFAULT_TOKEN);
    see(&mut s, "Location ID");
    s.send(ControlCode::EndOfText).unwrap();
    see(&mut s, "nothing was saved");
    let (code, _) = finish(&mut s);
    assert_ne!(code, 0);
    assert!(!world.config.exists(), "a config file was written");

    // After a successful check, at the very last question.
    let mut s = wizard(&world, &server.base_url, &[]);
    pick_use_case_and_give_token(&mut s, DEFAULT_TOKEN);
    see(&mut s, "Location ID");
    answer(&mut s, DEMO_LOCATION);
    see(&mut s, "Save as profile");
    s.send(ControlCode::EndOfText).unwrap();
    see(&mut s, "nothing was saved");
    let (code, _) = finish(&mut s);
    assert_ne!(code, 0);
    assert!(!world.config.exists(), "a config file was written");
    let leftovers: Vec<_> = std::fs::read_dir(world.config.parent().unwrap())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}
