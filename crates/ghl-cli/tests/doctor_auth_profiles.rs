//! `ghl doctor`, `ghl auth`, `ghl profiles` and non-interactive `ghl setup`
//! against the sandbox, each test in its own world.

mod setup_support;

use serde_json::Value;
use setup_support::{DEFAULT_TOKEN, DEMO_LOCATION, World, text};

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

/// `printf TOKEN | ghl --base-url URL setup --token-stdin --location L --profile P`.
fn setup(
    world: &World,
    base_url: &str,
    token: &str,
    location: &str,
    profile: &str,
) -> std::process::Output {
    world.run(
        &[
            "--base-url",
            base_url,
            "setup",
            "--token-stdin",
            "--location",
            location,
            "--profile",
            profile,
            "-o",
            "json",
        ],
        token,
        &[],
    )
}

fn checks(out: &std::process::Output) -> Vec<(String, String, String)> {
    json_out(out)
        .as_array()
        .expect("an array of checks")
        .iter()
        .map(|c| {
            for k in ["name", "status", "detail", "fix"] {
                assert!(c.get(k).is_some(), "check without {k}: {c}");
            }
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                format!("{} {}", c["detail"], c["fix"]),
            )
        })
        .collect()
}

#[test]
fn doctor_passes_everything_with_an_all_scopes_profile() {
    let world = World::new();
    let server = world.serve();
    let token = world.mint(None);
    let out = setup(&world, &server.base_url, &token, DEMO_LOCATION, "main");
    assert!(out.status.success(), "{}", text(&out));

    let out = world.run(&["doctor", "-o", "json"], "", &[]);
    let list = checks(&out);
    let bad: Vec<_> = list.iter().filter(|c| c.1 != "pass").collect();
    assert!(bad.is_empty(), "not all passed: {bad:#?}");
    assert!(out.status.success(), "{}", text(&out));
    let names: Vec<&str> = list.iter().map(|c| c.0.as_str()).collect();
    for want in [
        "config file",
        "profile",
        "token present",
        "location",
        "api reachable",
        "token valid",
        "location access",
        "scope contacts",
        "scope conversations",
        "scope invoices",
        "rate limit",
        "clock",
    ] {
        assert!(names.contains(&want), "no {want} check in {names:?}");
    }
    assert!(!text(&out).contains(&token), "the token was printed");
}

#[test]
fn doctor_names_the_missing_scopes_of_a_restricted_sandbox_token() {
    let world = World::new();
    let token = world.mint(Some("contacts.readonly"));
    let out = world.run(
        &["--sandbox", "doctor", "-o", "json"],
        "",
        &[("HIGHLEVEL_TOKEN", &token)],
    );
    assert!(
        !out.status.success(),
        "a restricted token passed:\n{}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(8), "missing_scope exit code");
    let list = checks(&out);
    let status = |name: &str| {
        list.iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no {name} check: {list:#?}"))
            .clone()
    };
    assert_eq!(status("scope contacts").1, "pass");
    assert_eq!(status("token valid").1, "pass");
    for (group, scope) in [
        ("conversations", "conversations.readonly"),
        ("calendars", "calendars.readonly"),
        ("opportunities", "opportunities.readonly"),
        ("invoices", "invoices.readonly"),
        ("custom-fields", "locations/customFields.readonly"),
        ("locations", "locations.readonly"),
    ] {
        let c = status(&format!("scope {group}"));
        assert_eq!(c.1, "fail", "{c:?}");
        assert!(
            c.2.contains(scope),
            "{group} does not name {scope}: {}",
            c.2
        );
        assert!(
            c.2.contains("Private Integrations"),
            "no place to add it: {}",
            c.2
        );
    }
    assert!(!text(&out).contains(&token), "the token was printed");

    // Only the groups the token is meant for: it passes.
    let out = world.run(
        &["--sandbox", "doctor", "--groups", "contacts", "-o", "json"],
        "",
        &[("HIGHLEVEL_TOKEN", &token)],
    );
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn doctor_fails_on_a_bad_token_and_a_foreign_location() {
    let world = World::new();
    let out = world.run(
        &["--sandbox", "doctor", "-o", "json"],
        "",
        &[(
            "HIGHLEVEL_TOKEN",
            "pit-sandbox-nope-0000-0000-0000-000000000000",
        )],
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    assert!(
        checks(&out)
            .iter()
            .any(|c| c.0 == "token valid" && c.1 == "fail")
    );

    let out = world.run(
        &[
            "--sandbox",
            "--location",
            "OtherLoc000000000001",
            "doctor",
            "-o",
            "json",
        ],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(10), "{}", text(&out));
    let list = checks(&out);
    let c = list
        .iter()
        .find(|c| c.0 == "location access")
        .expect("location check");
    assert_eq!(c.1, "fail");
    assert!(c.2.contains("OtherLoc000000000001"), "{c:?}");
}

#[test]
fn noninteractive_setup_refuses_bad_input_and_writes_nothing() {
    let world = World::new();
    let server = world.serve();
    let out = setup(
        &world,
        &server.base_url,
        "pit-bad-0000-0000-0000-000000000000",
        DEMO_LOCATION,
        "x",
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    assert!(text(&out).contains("refused"), "{}", text(&out));
    let out = setup(
        &world,
        &server.base_url,
        DEFAULT_TOKEN,
        "OtherLoc000000000001",
        "x",
    );
    assert_eq!(out.status.code(), Some(10), "{}", text(&out));
    let out = setup(
        &world,
        &server.base_url,
        DEFAULT_TOKEN,
        "https://app.gohighlevel.com/v2/dashboard",
        "x",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = setup(
        &world,
        &server.base_url,
        DEFAULT_TOKEN,
        DEMO_LOCATION,
        "bad name",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!world.config.exists());

    let url = format!("https://app.gohighlevel.com/v2/location/{DEMO_LOCATION}/dashboard");
    let out = setup(&world, &server.base_url, DEFAULT_TOKEN, &url, "x");
    assert!(out.status.success(), "{}", text(&out));
    let v = json_out(&out);
    assert_eq!(v["location_id"], DEMO_LOCATION);
    assert_eq!(v["location_name"], "Sandbox Demo Agency");
    assert_eq!(v["default"], true);
    assert_eq!(world.config_mode(), 0o600);
}

const TWO_PROFILES: &str = r#"default_profile = "main"

[profiles.main]
token = "pit-main-token-aaaaaaaaaaaaaaaaaaaa1111"
location_id = "LocMain0000000000001"

[profiles.other]
token = "pit-other-token-bbbbbbbbbbbbbbbbbbb2222"
location_id = "LocOther000000000002"
"#;

fn show(world: &World, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all = args.to_vec();
    all.extend(["profiles", "show", "-o", "json"]);
    let out = world.run(&all, "", env);
    assert!(out.status.success(), "{}", text(&out));
    for raw in [
        "pit-main-token-aaaa",
        "pit-other-token-bbbb",
        "pit-env-token-cccc",
    ] {
        assert!(
            !text(&out).contains(raw),
            "a token was printed:\n{}",
            text(&out)
        );
    }
    json_out(&out)
}

#[test]
fn profile_precedence_is_flag_over_environment_over_profile() {
    let world = World::new();
    world.write_config(TWO_PROFILES);

    let v = show(&world, &[], &[]);
    assert_eq!(v["profile"]["value"], "main");
    assert_eq!(v["location_id"]["value"], "LocMain0000000000001");
    assert_eq!(v["location_id"]["source"], "profile (main)");
    assert_eq!(v["token"]["source"], "profile (main)");
    assert_eq!(v["token"]["value"], "pit-…1111");
    assert_eq!(v["base_url"]["source"], "default");

    let env = [
        ("HIGHLEVEL_LOCATION_ID", "LocEnv00000000000003"),
        ("HIGHLEVEL_TOKEN", "pit-env-token-cccccccccccccccccccc3333"),
        ("GHL_PROFILE", "other"),
    ];
    let v = show(&world, &[], &env);
    assert_eq!(v["profile"]["value"], "other");
    assert_eq!(v["profile"]["source"], "environment (GHL_PROFILE)");
    assert_eq!(v["location_id"]["value"], "LocEnv00000000000003");
    assert_eq!(
        v["location_id"]["source"],
        "environment (HIGHLEVEL_LOCATION_ID)"
    );
    assert_eq!(v["token"]["source"], "environment (HIGHLEVEL_TOKEN)");

    let v = show(
        &world,
        &[
            "--profile",
            "main",
            "--location",
            "LocFlag00000000000004",
            "--base-url",
            "http://127.0.0.1:9",
        ],
        &env,
    );
    assert_eq!(v["profile"]["value"], "main");
    assert_eq!(v["profile"]["source"], "flag");
    assert_eq!(v["location_id"]["value"], "LocFlag00000000000004");
    assert_eq!(v["location_id"]["source"], "flag");
    assert_eq!(v["base_url"]["source"], "flag");
    assert_eq!(v["token"]["source"], "environment (HIGHLEVEL_TOKEN)");

    // `show NAME` picks another profile; use/remove change the file.
    let v = show(&world, &[], &[]);
    assert_eq!(v["profile"]["value"], "main");
    let out = world.run(&["profiles", "use", "other"], "", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(show(&world, &[], &[])["profile"]["value"], "other");
    let out = world.run(&["profiles", "remove", "other"], "", &[]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "removal without --yes: {}",
        text(&out)
    );
    let out = world.run(&["profiles", "remove", "other", "--yes"], "", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = world.run(&["profiles", "list", "-o", "json"], "", &[]);
    let list = json_out(&out);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!text(&out).contains("pit-main-token-aaaa"));
    assert!(!world.config_text().unwrap().contains("pit-other"));
}

#[test]
fn a_config_file_others_can_read_is_refused_with_the_chmod_hint() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new();
    world.write_config(TWO_PROFILES);
    std::fs::set_permissions(&world.config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = world.run(&["profiles", "show"], "", &[]);
    assert!(!out.status.success());
    let all = text(&out);
    assert!(
        all.contains(&format!("chmod 600 {}", world.config.display())),
        "{all}"
    );
    assert!(!all.contains("pit-main-token-aaaa"), "{all}");

    // The doctor still runs, and says the same.
    let out = world.run(&["--sandbox", "doctor", "-o", "json"], "", &[]);
    assert!(!out.status.success());
    let list = checks(&out);
    let c = list.iter().find(|c| c.0 == "config file").unwrap();
    assert_eq!(c.1, "fail");
    assert!(c.2.contains("chmod 600"), "{c:?}");
}

#[test]
fn auth_status_never_prints_the_token_and_rotate_logout_work() {
    let world = World::new();
    let server = world.serve();
    let first = world.mint(None);
    let out = setup(&world, &server.base_url, &first, DEMO_LOCATION, "main");
    assert!(out.status.success(), "{}", text(&out));

    for fmt in ["table", "json"] {
        let out = world.run(&["auth", "status", "-o", fmt], "", &[]);
        assert!(out.status.success(), "{}", text(&out));
        let all = text(&out);
        assert!(
            !all.contains(&first),
            "auth status printed the token:\n{all}"
        );
        assert!(all.contains("Sandbox Demo Agency"), "{all}");
    }
    let v = json_out(&world.run(&["auth", "status", "-o", "json"], "", &[]));
    assert_eq!(v["works"], true);
    assert_eq!(v["token_source"], "profile main");
    assert!(
        v["token_stored_in"]
            .as_str()
            .unwrap()
            .contains("config file")
    );

    // A token that does not work: still redacted, non-zero exit.
    let bad = "pit-bad-token-0000-0000-000000009999";
    let out = world.run(&["auth", "status"], "", &[("HIGHLEVEL_TOKEN", bad)]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    assert!(!text(&out).contains(bad), "{}", text(&out));

    // Rotate: a bad new token is refused and the old one kept.
    let out = world.run(&["auth", "rotate", "--token-stdin"], bad, &[]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    assert!(world.config_text().unwrap().contains(&first));
    assert!(!text(&out).contains(bad));
    // A good one replaces it.
    let second = world.mint(None);
    let out = world.run(&["auth", "rotate", "--token-stdin"], &second, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let cfg = world.config_text().unwrap();
    assert!(cfg.contains(&second) && !cfg.contains(&first), "{cfg}");
    assert!(!text(&out).contains(&second));
    assert_eq!(world.config_mode(), 0o600);

    // Logout removes it; status then says there is none.
    let out = world.run(&["auth", "logout"], "", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!world.config_text().unwrap().contains(&second));
    let out = world.run(&["auth", "status", "-o", "json"], "", &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!(json_out(&out)["works"], false);
}
