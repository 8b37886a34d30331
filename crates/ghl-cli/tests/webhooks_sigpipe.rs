//! An `--exec` sink that exits without reading its input must not take the
//! receiver down: `ghl` lets SIGPIPE end it quietly under `| head`, but a
//! server writing to a finished child's stdin gets an error instead.

mod webhooks_support;

use serde_json::json;
use webhooks_support::*;

#[test]
fn an_exec_sink_that_ignores_its_input_does_not_kill_the_receiver() {
    let dir = Dir::new();
    let k = key(5);
    let mut cmd = dir.ghl();
    cmd.args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--store"])
        .arg(dir.store())
        .args(["--public-key", &public_b64(&k), "--exec", "exit 0"]);
    let mut rx = Proc::start(cmd);
    // Larger than a pipe's buffer: the write meets a closed pipe for sure.
    let mut ev = contact_event("wh-big");
    ev["notes"] = json!("x".repeat(200_000));
    let body = ev.to_string();
    assert_eq!(
        post(
            &rx.addr,
            body.as_bytes(),
            Some(&sign(&k, body.as_bytes())),
            "application/json"
        ),
        200
    );
    let delivered = wait_for(15, || {
        rx.child.try_wait().unwrap().is_none() && health(&rx.addr)["delivered"] == 1
    });
    let status = rx.child.try_wait().unwrap();
    assert!(status.is_none(), "the receiver died: {status:?}");
    assert!(delivered, "{}", health(&rx.addr));
}
